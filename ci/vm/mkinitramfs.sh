#!/bin/bash
# Build the initramfs for ci/rxe-vm.sh and ci/rxe-pair.sh (one image for both).
#
#   ci/vm/mkinitramfs.sh KERNEL_DEB INIT_SCRIPT OUTPUT
#
# KERNEL_DEB is Debian's linux-image-<abi>-amd64[-unsigned] package. The
# initramfs holds a static busybox, INIT_SCRIPT as /init, and the kernel
# modules needed for rxe, 9p, virtio-serial, virtio-net, the dummy/veth netdevs and netem (tc qdisc), plus
# everything they depend on. The load order comes from `modprobe --show-depends` against a
# `depmod -b` of the unpacked package: it differs between kernel versions, so it
# is never hard-coded. OUTPUT is written atomically (temp file + rename).
#
# This file and INIT_SCRIPT are hashed by ci/vm/lib.sh: changing either one
# rebuilds the cached initramfs.
set -euo pipefail

# Modules the guest needs (their dependencies are resolved, not listed). sch_netem: the fault-matrix tests
# (RdmaNetemFaultRdmaTest) put loss, delay, reordering and duplication on the veth ends with `tc qdisc ... netem`.
# Changing this list changes this file's hash, so ci/vm/lib.sh builds a new cached initramfs on the next run.
MODULES=(crc32_generic ib_core ib_uverbs rdma_rxe 9p 9pnet_virtio virtio_pci virtio_console dummy veth virtio_net
         sch_netem)
# Loaded too when this kernel has them (rdma_ucm gives librdmacm /dev/infiniband/rdma_cm).
OPTIONAL_MODULES=(rdma_ucm)

die() { echo "rxe-vm: mkinitramfs: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: $0 KERNEL_DEB INIT_SCRIPT OUTPUT"
deb=$1 init=$2 out=$3
[ -f "$deb" ] || die "no kernel package at $deb"
[ -f "$init" ] || die "no init script at $init"

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found (install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked; install busybox-static"
fi

work=$(mktemp -d "$(dirname "$out")/.mkinitramfs.XXXXXX")
trap 'rm -rf "$work"' EXIT

ktree=$work/kernel
root=$work/root
dpkg-deb -x "$deb" "$ktree"
kvers=("$ktree"/lib/modules/*)
[ ${#kvers[@]} -eq 1 ] && [ -d "${kvers[0]}" ] || die "expected exactly one lib/modules/<version> in $deb"
kver=$(basename "${kvers[0]}")
# The package ships no modules.dep: build one so modprobe can resolve dependencies.
depmod -b "$ktree" "$kver"

mods=("${MODULES[@]}")
for m in "${OPTIONAL_MODULES[@]}"; do
    if modprobe -d "$ktree" -S "$kver" --show-depends "$m" >/dev/null 2>&1; then
        mods+=("$m")
    else
        echo "rxe-vm: mkinitramfs: note: optional module $m not in kernel $kver" >&2
    fi
done

moddir=$root/lib/modules/$kver
mkdir -p "$root"/{bin,dev,proc,sys,mnt/host} "$moddir"
cp "$busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"   # for the #!/bin/sh of /init; init installs the rest
install -m 0755 "$init" "$root/init"

# `modprobe --show-depends -a` prints, per requested module, its dependency chain
# in load order ("insmod PATH [OPTIONS]" or "builtin NAME"). Keep the first
# occurrence of each module: that preserves a valid order.
deps=$(modprobe -d "$ktree" -S "$kver" --show-depends -a "${mods[@]}") \
    || die "modprobe could not resolve: ${mods[*]}"
declare -A seen=()
: >"$moddir/load.list"
while read -r kind path opts; do
    [ "$kind" = insmod ] || continue
    rel=${path#"$ktree/lib/modules/$kver/"}
    [ "$rel" != "$path" ] || die "unexpected module path: $path"
    [ -z "${seen[$rel]:-}" ] || continue
    seen[$rel]=1
    dest=$moddir/$rel
    mkdir -p "$(dirname "$dest")"
    # Busybox insmod wants plain .ko files: decompress if the kernel compresses them.
    case $rel in
        *.ko.xz)  xz -dc "$path" >"${dest%.xz}";   rel=${rel%.xz} ;;
        *.ko.zst) zstd -qdc "$path" >"${dest%.zst}"; rel=${rel%.zst} ;;
        *.ko.gz)  gzip -dc "$path" >"${dest%.gz}";  rel=${rel%.gz} ;;
        *.ko)     cp "$path" "$dest" ;;
        *) die "unexpected module file: $path" ;;
    esac
    printf '%s %s\n' "$rel" "$opts" >>"$moddir/load.list"
done <<<"$deps"
[ -s "$moddir/load.list" ] || die "no modules resolved"
# Also lets busybox modprobe work in the guest for the modules that are there.
cp "$ktree/lib/modules/$kver"/modules.builtin{,.modinfo} "$moddir/" 2>/dev/null || true
: >"$moddir/modules.order"
depmod -b "$root" "$kver"

echo "rxe-vm: mkinitramfs: kernel $kver, $(wc -l <"$moddir/load.list") modules:" \
    "$(sed 's|.*/||; s|\.ko.*||' "$moddir/load.list" | tr '\n' ' ')" >&2

(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) \
    | gzip -1 >"$work/initramfs.cpio.gz"
mv -f "$work/initramfs.cpio.gz" "$out"
