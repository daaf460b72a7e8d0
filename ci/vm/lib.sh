#!/bin/bash
# Shared by the throwaway-VM harnesses ci/rxe-vm.sh (one guest) and ci/rxe-pair.sh (two guests):
# host packages, Debian's kernel and the initramfs (one cache for both), the guest's job script,
# the qemu command line they have in common, and reading a guest's outcome. Sourced, not run.
# The caller sets VM_TOOL (message prefix), here (ci/) and repo (the repository root) first.
# Guest side: ci/vm/init (PID 1); initramfs builder: ci/vm/mkinitramfs.sh.

PACKAGES=(qemu-system-x86 busybox-static kmod cpio iproute2 rdma-core ibverbs-utils
          perftest libibverbs-dev librdmacm-dev xz-utils)

msg() { echo "$VM_TOOL: $*" >&2; }
die() { msg "error: $*"; exit 125; }
usage_error() { msg "$*"; echo "Try 'ci/$VM_TOOL.sh --help'." >&2; exit 2; }

# --- host packages ------------------------------------------------------------------
apt_updated=
apt_update_once() {
    [ -z "$apt_updated" ] || return 0
    msg "apt-get update"
    apt-get update -q >&2 || return 1
    apt_updated=1
}

ensure_packages() {
    local missing
    missing=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null \
              | awk -v want="${PACKAGES[*]}" '$2 == "installed" { ok[$1] = 1 }
                    END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!ok[w[i]]) printf "%s ", w[i] }' \
              || true)
    missing=${missing% }
    [ -z "$missing" ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing packages ($missing) and not root: install them first"
    msg "installing $missing"
    apt_update_once || die "apt-get update failed"
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2 \
        || die "apt-get install $missing failed"
}

# --- kernel -------------------------------------------------------------------------
kernel_dir() { echo "$cache/kernel-${1}_${2//[:\/]/_}"; }

# Print "PACKAGE VERSION" of the kernel to use, from apt's lists (each apt-cache
# call costs about a second, so a kernel that is already cached ends the search).
resolve_kernel() {
    local meta dep ver pkg
    if [ -n "${SHARDLINK_VM_KERNEL_PKG:-}" ]; then
        pkg=$SHARDLINK_VM_KERNEL_PKG
    else
        meta=$(apt-cache show --no-all-versions linux-image-amd64 2>/dev/null) || return 1
        # Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)
        dep=$(sed -n 's/^Depends: *\(linux-image-[^ ,]*\) *(= *\([^)]*\)).*/\1 \2/p' <<<"$meta" | head -n1)
        [ -n "$dep" ] || return 1
        read -r pkg ver <<<"$dep"
        if [ -f "$(kernel_dir "$pkg-unsigned" "$ver")/vmlinuz" ]; then
            echo "$pkg-unsigned $ver"
            return 0
        fi
        # Same kernel and modules; the signed package only adds an EFI signature.
        if apt-cache show --no-all-versions "$pkg-unsigned" >/dev/null 2>&1; then
            pkg=$pkg-unsigned
        fi
    fi
    ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: *//p' | head -n1)
    [ -n "$ver" ] || return 1
    echo "$pkg $ver"
}

# Download PACKAGE=VERSION and keep kernel.deb, vmlinuz and config in KDIR (atomically).
fetch_kernel() {
    local pkg=$1 ver=$2 kdir=$3 tmp
    msg "fetching $pkg $ver (once; cached in $cache)"
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
    download() { (cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$pkg=$ver" >&2); }
    download || { apt_update_once && download; } \
        || { rm -rf "$tmp"; die "apt-get download $pkg=$ver failed"; }
    mv "$tmp"/*.deb "$tmp/kernel.deb"
    dpkg-deb --fsys-tarfile "$tmp/kernel.deb" \
        | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' \
        || { rm -rf "$tmp"; die "no boot/vmlinuz-* in $pkg"; }
    mv "$tmp"/boot/vmlinuz-* "$tmp/vmlinuz"
    mv "$tmp"/boot/config-* "$tmp/config"
    rmdir "$tmp/boot"
    rm -rf "$kdir"
    mv "$tmp" "$kdir"   # a kernel dir with vmlinuz in it is complete
}

# Under TCG the kernel's own decompression of its xz image takes seconds. With
# CONFIG_PVH, qemu boots the uncompressed ELF directly: unpack it once.
extract_vmlinux() {   # BZIMAGE OUT: find the compressed payload, check it is ELF
    local img=$1 out=$2 fmt magic off rc
    local -a cmd
    for fmt in xz zstd gzip; do
        case $fmt in
            xz)   magic=$'\xfd7zXZ'; cmd=(xz -dc --single-stream) ;;
            zstd) magic=$'\x28\xb5\x2f\xfd'; cmd=(zstd -dcq) ;;
            gzip) magic=$'\x1f\x8b\x08'; cmd=(gzip -dc) ;;
        esac
        command -v "${cmd[0]}" >/dev/null || continue
        for off in $(LC_ALL=C grep -abo "$magic" "$img" | cut -d: -f1 | head -n 5); do
            rc=0
            "${cmd[@]}" < <(tail -c +$((off + 1)) "$img" 2>/dev/null) >"$out" 2>/dev/null || rc=$?
            # gzip exits 2 for the bytes that follow the payload: that is fine.
            if { [ $rc -eq 0 ] || { [ $fmt = gzip ] && [ $rc -eq 2 ]; }; } \
                && [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
                return 0
            fi
        done
    done
    rm -f "$out"
    return 1
}

# Sets kdir, kimage and initrd; takes the cache lock while it works.
prepare_vm_files() {
    local lockfd kernel kpkg kver last busybox_bin ihash
    cache=${SHARDLINK_VM_CACHE:-${HOME:-/root}/.cache/shardlink-vm}
    mkdir -p "$cache" || die "cannot create the cache dir $cache"
    cache=$(cd "$cache" && pwd -P)
    case $cache/ in "$repo"/*) die "SHARDLINK_VM_CACHE must be outside the work tree ($cache)" ;; esac
    exec {lockfd}>"$cache/.lock"
    if ! flock -n "$lockfd"; then
        msg "waiting for the cache lock: another run is preparing the VM files"
        flock "$lockfd"
    fi
    # Only lock holders create these; leftovers are from runs that were killed.
    rm -rf "$cache"/.fetch.* "$cache"/kernel-*/.mkinitramfs.* "$cache"/kernel-*/.vmlinux.tmp

    kernel=$(resolve_kernel) || { apt_update_once && kernel=$(resolve_kernel); } || kernel=
    if [ -z "$kernel" ]; then
        # Offline and apt knows nothing: fall back to the most recently used kernel.
        last=$(ls -1dt "$cache"/kernel-*/ 2>/dev/null | head -n1 || true)
        [ -n "$last" ] && [ -f "$last/vmlinuz" ] \
            || die "apt cannot resolve a Debian kernel (linux-image-amd64), and none is cached"
        kdir=${last%/}
        msg "warning: apt cannot resolve the kernel; using cached $(basename "$kdir")"
    else
        read -r kpkg kver <<<"$kernel"
        kdir=$(kernel_dir "$kpkg" "$kver")
        [ -f "$kdir/vmlinuz" ] || fetch_kernel "$kpkg" "$kver" "$kdir"
    fi

    kimage=$kdir/vmlinuz
    if [ -f "$kdir/vmlinux" ]; then
        kimage=$kdir/vmlinux
    elif [ ! -f "$kdir/no-pvh" ]; then
        if grep -qx 'CONFIG_PVH=y' "$kdir/config" 2>/dev/null \
            && extract_vmlinux "$kdir/vmlinuz" "$kdir/.vmlinux.tmp"; then
            mv -f "$kdir/.vmlinux.tmp" "$kdir/vmlinux"
            kimage=$kdir/vmlinux
        else
            msg "note: booting the compressed kernel (no PVH entry, or cannot unpack it): slower"
            : >"$kdir/no-pvh"
        fi
    fi

    busybox_bin=$(command -v busybox || true)
    [ -n "$busybox_bin" ] || die "busybox not found (install busybox-static)"
    # Rebuilt when the init, the builder, busybox or the kernel changes (the
    # kernel by name and size: hashing a 70 MB .deb on every run is slow).
    ihash=$( { cat "$init_script" "$mkinitramfs"; sha256sum "$busybox_bin" | cut -d' ' -f1;
               basename "$kdir"; stat -c %s "$kdir/kernel.deb"; } | sha256sum | cut -c1-16)
    initrd=$kdir/initramfs-$ihash.cpio.gz
    if [ ! -f "$initrd" ]; then
        msg "building initramfs $(basename "$initrd")"
        bash "$mkinitramfs" "$kdir/kernel.deb" "$init_script" "$initrd" \
            || die "building the initramfs failed"
    fi
    # Keep the cache small: drop what no run has used for a while.
    touch "$kdir" "$initrd"
    find "$kdir" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +7 -delete 2>/dev/null || true
    find "$cache" -mindepth 1 -maxdepth 1 -name 'kernel-*' -mtime +30 -exec rm -rf {} + 2>/dev/null || true
    flock -u "$lockfd"
    exec {lockfd}>&-
}

# The options both harnesses take: --mem MB, --timeout SECONDS, -h (the caller's usage), then
# -- COMMAND [ARG...]. Sets mem and timeout_s (the caller sets their defaults first) and command_args.
parse_options() {
    while [ $# -gt 0 ]; do
        case $1 in
            --mem) [ $# -ge 2 ] || usage_error "--mem needs a value"; mem=$2; shift 2 ;;
            --mem=*) mem=${1#*=}; shift ;;
            --timeout) [ $# -ge 2 ] || usage_error "--timeout needs a value"; timeout_s=$2; shift 2 ;;
            --timeout=*) timeout_s=${1#*=}; shift ;;
            -h|--help) usage; exit 0 ;;
            --) shift; break ;;
            *) usage_error "unexpected argument '$1' (the command goes after --)" ;;
        esac
    done
    [ $# -gt 0 ] || usage_error "no command given: ci/$VM_TOOL.sh [options] -- COMMAND [ARG...]"
    [[ $mem =~ ^[1-9][0-9]*$ ]] && [ "$mem" -ge 256 ] \
        || usage_error "--mem must be a number of MB, at least 256, not '$mem'"
    [[ $timeout_s =~ ^[1-9][0-9]*$ ]] \
        || usage_error "--timeout must be a positive whole number of seconds, not '$timeout_s'"
    command_args=("$@")
}

# Sets init_script and mkinitramfs from $here, checks that they exist.
find_guest_files() {
    init_script=$here/vm/init
    mkinitramfs=$here/vm/mkinitramfs.sh
    [ -f "$init_script" ] && [ -f "$mkinitramfs" ] || die "missing $init_script or $mkinitramfs"
}

# A fresh run directory under $TMPDIR (it goes on the kernel command line: plain characters only).
new_run_dir() {   # PREFIX -> prints the path
    local d
    d=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || die "cannot create a run dir in ${TMPDIR:-/tmp}"
    d=$(cd "$d" && pwd -P)
    [[ $d =~ ^[A-Za-z0-9_./-]+$ ]] || die "run dir '$d' has unusual characters (set TMPDIR)"
    : >"$d/console.log"
    : >"$d/stdout.log"
    : >"$d/stderr.log"
    echo "$d"
}

# --- the run ------------------------------------------------------------------------
write_job() {   # RUNDIR EXPORTS COMMAND [ARG...] -> RUNDIR/job.sh
    # EXPORTS: shell lines (export ...) of the harness's own variables, written last so that they win.
    local rdir=$1 exports=$2 name guest_home=${HOME:-/root}
    shift 2
    [ -d "$guest_home" ] || guest_home=/root
    {
        echo '#!/bin/bash'
        echo "# Generated by ci/$VM_TOOL.sh; the guest runs it chrooted into the host fs, under env -i."
        printf 'export HOME=%q\n' "$guest_home"
        printf 'export PATH=%q\n' "${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
        echo 'export USER=root LOGNAME=root TERM=dumb SHELL=/bin/bash'
        while read -r name; do
            case $name in
                SHARDLINK_VM_*) ;;
                JAVA_HOME|LANG|LANGUAGE|LC_*|TZ|TMPDIR|CI|MAVEN_OPTS|MAVEN_ARGS|SHARDLINK_*)
                    printf 'export %s=%q\n' "$name" "${!name}" ;;
            esac
        done < <(compgen -e)
        # Last, so that they win over anything inherited.
        printf '%s\n' "$exports"
        echo "ulimit -l unlimited || { echo \"$VM_TOOL(guest): cannot raise the memlock limit\" >&2; exit 125; }"
        echo 'ulimit -n 65536 2>/dev/null || true'
        printf 'cd %q || exit 125\n' "$repo"
        printf 'exec'
        printf ' %q' "$@"
        printf '\n'
    } >"$rdir/job.sh"
}

# The qemu command line both harnesses share, into the array `qemu`: no devices but a serial
# console, two virtio-serial ports for the command's stdout/stderr, and the host's / over 9p.
qemu_base_args() {   # RUNDIR VCPUS MEM_MB KERNEL_ARGS
    local rdir=$1 smp=$2 mem=$3 kargs=$4
    qemu=(
        qemu-system-x86_64
        -nodefaults -no-user-config
        -machine pc -accel tcg,thread=multi -cpu max -smp "$smp" -m "$mem"
        -display none -vga none -monitor none
        -no-reboot   # a panic (panic=-1) or reboot ends qemu
        -kernel "$kimage" -initrd "$initrd"
        -append "console=ttyS0 ${SHARDLINK_VM_KLOG:-quiet loglevel=3} panic=-1 no_timer_check mitigations=off cryptomgr.notests rxevm.run=$rdir $kargs"
        # ttyS0: the console (kernel and init messages). The command's stdout and
        # stderr: virtio-serial ports (the UART manages only ~100 KB/s under TCG).
        -chardev "file,id=con,path=$rdir/console.log,append=on" -serial chardev:con
        -device virtio-serial-pci,id=vser
        -chardev "file,id=out,path=$rdir/stdout.log,append=on"
        -device virtserialport,bus=vser.0,chardev=out,name=shardlink.stdout
        -chardev "file,id=err,path=$rdir/stderr.log,append=on"
        -device virtserialport,bus=vser.0,chardev=err,name=shardlink.stderr
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,multidevs=remap
    )
}

# Kernel arguments both harnesses pass to ci/vm/init.
guest_kernel_args() {   # -> prints them
    local backlog=$1 ninep=$2 extra="" h
    [ "${SHARDLINK_VM_DEBUG:-}" = 1 ] && extra+=" rxevm.debug=1"
    h=$(hostname 2>/dev/null || true)
    [[ $h =~ ^[A-Za-z0-9.-]+$ ]] && extra+=" rxevm.hostname=$h"
    echo "rxevm.backlog=$backlog rxevm.9pcache=$ninep$extra"
}

# Checks of the settings both harnesses read from the environment; sets backlog and ninep.
read_vm_settings() {
    backlog=${SHARDLINK_VM_BACKLOG:-4096}
    [[ $backlog =~ ^[1-9][0-9]*$ ]] || usage_error "SHARDLINK_VM_BACKLOG must be a positive number"
    ninep=${SHARDLINK_VM_9P_CACHE:-loose}
    [[ $ninep =~ ^(loose|mmap|none)$ ]] || usage_error "SHARDLINK_VM_9P_CACHE must be loose, mmap or none"
}

# Ends a qemu started under timeout(1) (PID of the timeout process): TERM, then KILL after 5 s.
stop_qemu() {   # PID
    local pid=$1 n=0
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true   # timeout(1) passes it on to qemu
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
    pkill -KILL -P "$pid" 2>/dev/null || true
}

# After qemu ended: what the guest's run came to. Sets outcome (the exit status to report) and
# outcome_msg (empty when the command ran and exited 0). QRC is qemu's (timeout's) exit status.
guest_outcome() {   # RUNDIR QRC ELAPSED TIMEOUT
    local rdir=$1 qrc=$2 elapsed=$3 timeout_s=$4 status
    if [ -s "$rdir/qemu.log" ]; then
        sed "s/^/$VM_TOOL: qemu: /" "$rdir/qemu.log" >&2
    fi
    outcome_msg=
    if [ "$qrc" -eq 124 ] || { [ "$qrc" -eq 137 ] && [ "${elapsed%.*}" -ge "$timeout_s" ]; }; then
        outcome=124; outcome_msg="timed out after ${timeout_s}s (--timeout): VM killed"
    elif [ -f "$rdir/status" ]; then
        status=$(cat "$rdir/status")
        if ! [[ $status =~ ^[0-9]+$ ]]; then
            outcome=125; outcome_msg="bad exit status '$status' from the guest"
        else
            outcome=$status
            [ "$status" -eq 0 ] || outcome_msg="command exited with status $status (VM ran ${elapsed}s)"
        fi
    elif [ -f "$rdir/setup-error" ]; then
        outcome=125; outcome_msg="RDMA setup failed in the VM, command not run: $(cat "$rdir/setup-error")"
    else
        outcome=125
        outcome_msg="the VM stopped before the command finished (qemu exit status $qrc after ${elapsed}s): kernel panic or crash? See the console output above"
    fi
}

seconds_since() {   # START (date +%s.%N) -> prints elapsed seconds, one decimal
    awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'
}
