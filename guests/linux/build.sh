#!/usr/bin/env bash
# Build the Linux test guest into BUILD/guest/: bzImage from Debian's
# linux-image-cloud-amd64 (the concrete package it depends on, fetched with
# apt-get download and unpacked with dpkg -x, cached in BUILD/cache/), and an
# initrd with busybox-static, the virtio modules, /init and our workloads.
set -euo pipefail
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
cache=$B/cache
out=$B/guest
mkdir -p "$cache" "$out"
cache=$(cd "$cache" && pwd)

# 1. The kernel package, once.
if [ ! -d "$cache/kernel/boot" ]; then
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		echo "guest: cannot resolve linux-image-cloud-amd64 (run apt-get update?)" >&2
		exit 1
	fi
	echo "guest: fetching $pkg"
	chmod 777 "$cache"	# apt-get download drops privileges to _apt
	(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>&1) || {
		echo "guest: apt-get download $pkg failed" >&2; exit 1; }
	rm -rf "$cache/kernel.tmp"
	dpkg -x "$cache"/"$pkg"_*.deb "$cache/kernel.tmp"
	mv "$cache/kernel.tmp" "$cache/kernel"
fi
kver=$(ls "$cache/kernel/lib/modules" | head -n1)
cp "$cache/kernel/boot/vmlinuz-$kver" "$out/bzImage"
echo "$kver" > "$out/kernel-version"

# 2. The initramfs.
root=$out/initrd.d
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib/modules/"$kver"}
cp /bin/busybox "$root/bin/busybox"
moddir=$cache/kernel/lib/modules/$kver/kernel
# Order matters: each module after the ones it needs.
mods="drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko
      drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci_legacy_dev.ko
      drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko net/core/failover.ko
      drivers/net/net_failover.ko drivers/net/virtio_net.ko
      drivers/char/hw_random/virtio-rng.ko"
: > "$root/lib/modules/order"
for m in $mods; do
	[ -f "$moddir/$m" ] || { echo "guest: module $m missing from $kver" >&2; exit 1; }
	cp "$moddir/$m" "$root/lib/modules/"
	basename "$m" >> "$root/lib/modules/order"
done
cp "$here/init" "$root/init"
chmod +x "$root/init"
${CC:-gcc} -static -O2 -Wall -Werror -o "$root/bin/dirtier" "$here/dirtier.c"
${CC:-gcc} -static -O2 -Wall -Werror -o "$root/bin/now" "$here/now.c"
${CC:-gcc} -static -O2 -Wall -Werror -o "$root/bin/udpecho" "$here/udpecho.c"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 > "$out/initrd.tmp"
mv "$out/initrd.tmp" "$out/initrd"
echo "guest: $out/bzImage ($kver), $out/initrd ($(du -k "$out/initrd" | cut -f1) KiB)"
