#!/bin/bash
# Ad hoc (stop 17): a plain TCP copy of 1 GiB (memory to memory) and a
# full-GiB stop-copy of the idle micro guest (1000 MiB written, --compress
# none), alternately, N pairs, between the namespace hosts. "pin" runs the
# source side on CPU 0 and the destination side on CPU 1 (taskset), "plain"
# leaves placement to the scheduler. From the repository, after make:
#   bash docs/results/engine-pin/pin.sh plain|pin N
cd "$(dirname "$0")/../../.."
B=$PWD/build
export PATH=$B:$PATH
H=tests/integration/hosts-lab.sh
sh $H down 2>/dev/null; sh $H up >/dev/null
. tests/integration/wait-for.sh
mode=$1 n=$2 port=7700
pa=""; pb=""
[ "$mode" = pin ] && pa="taskset -c 0" pb="taskset -c 1"
[ "$mode" = same ] && pa="taskset -c 0" pb="taskset -c 0"
for i in $(seq 1 $n); do
  port=$((port+1))
  ip netns exec hostB $pb tcpcopy recv 10.9.0.2:$port 1024 > /tmp/tcp.out &
  sleep 1
  ip netns exec hostA $pa tcpcopy send 10.9.0.2:$port 1024 spread
  wait
  t=$(grep -o 'ms=[0-9.]*' /tmp/tcp.out | cut -d= -f2)
  port=$((port+1))
  rm -f /tmp/a.log /tmp/b.log
  ip netns exec hostA $pa vmm run --micro build/micro/idle.bin --micro-arg 1000 --memory 1G --api /tmp/a.sock > /tmp/a.log 2>&1 &
  wait_for /tmp/a.log "IDLE READY" 120
  ip netns exec hostB $pb vmm receive --listen 10.9.0.2:$port --api /tmp/b.sock > /tmp/b.log 2>&1 &
  wait_for /tmp/b.log waiting 30
  j=$(vmm migrate --api /tmp/a.sock --to 10.9.0.2:$port --strategy stop-copy --compress none --json)
  wait_for /tmp/b.log "runs here" 30
  vmm ctl --api /tmp/b.sock quit >/dev/null 2>&1; vmm ctl --api /tmp/a.sock quit >/dev/null 2>&1
  wait
  d=$(echo "$j" | grep -o '"downtime_ms":[0-9.]*' | cut -d: -f2)
  echo "$mode $i tcp_ms $t vmm_down_ms $d ratio $(echo "$t $d" | awk '{printf "%.2f", $1/$2}')"
done
sh $H down
