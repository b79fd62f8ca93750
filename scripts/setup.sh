#!/usr/bin/env bash
# Install what the build, the test guests, the lab and the tests need, from Debian's
# archive only. Idempotent: it asks apt only for packages that are missing, so a
# machine that has them all costs one dpkg-query.
set -euo pipefail

pkgs=(build-essential make gcc binutils liblz4-dev libcunit1-dev libjson-c-dev
      linux-libc-dev busybox-static cpio gzip qemu-system-x86 seabios iproute2
      e2fsprogs gnuplot-nox clang libclang-rt-14-dev libxxhash-dev)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${missing[*]}; run as root or install them" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
