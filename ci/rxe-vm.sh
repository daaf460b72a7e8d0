#!/bin/bash
# Run a command inside a throwaway QEMU VM that has real Soft-RoCE (rxe) devices.
# Guest side: ci/vm/init (PID 1); initramfs builder: ci/vm/mkinitramfs.sh; what it shares
# with ci/rxe-pair.sh (packages, kernel cache, qemu command line): ci/vm/lib.sh.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ci/rxe-vm.sh [--mem MB] [--timeout SECONDS] -- COMMAND [ARG...]

Boots a throwaway VM (qemu-system-x86_64, TCG, 2 vCPUs, no network device) with
Debian's own kernel, shares the host's / into it over 9p, chroots into it and
runs COMMAND from the repository root, at the same paths as on the host.

Inside the VM:
  rxe0  Soft-RoCE on dummy0 (loopback: both ends of a test on one device)
  rxea  Soft-RoCE on veth end va  } traffic between them really crosses the
  rxeb  Soft-RoCE on veth end vb  } veth pair: `ip link set vb down` cuts it
  lo    up, 127.0.0.1 (use it for out-of-band exchange); no other IP addresses.
  All three ports are ACTIVE before COMMAND starts, or the run fails (125).
  Environment: SHARDLINK_IN_VM=1 SHARDLINK_REQUIRE_RDMA=1
    SHARDLINK_RXE_LOOPBACK=rxe0 SHARDLINK_RXE_A=rxea SHARDLINK_RXE_B=rxeb
    SHARDLINK_RXE_CUT_LINK=vb, plus the host's PATH, HOME, JAVA_HOME, LANG,
    LC_*, TZ, TMPDIR, CI, MAVEN_OPTS, MAVEN_ARGS and other SHARDLINK_* variables
    (nothing else); memlock unlimited; stdin is /dev/null.
  /proc /sys /dev /dev/shm /run are the guest's own; everything else, /tmp
  included, is the host's file system (9p), and writes land on the host.
  Unix sockets and FIFOs cannot live on 9p: put them in /dev/shm or /run.
  Processes COMMAND leaves running are killed when it exits.

COMMAND's stdout goes to stdout, its stderr (and kernel errors) to stderr; each
is streamed live (their relative order is not kept when both go to one file).
Exit status: COMMAND's own; 124 if the run hit --timeout (the VM is killed);
125 if the VM or RDMA could not be brought up, or the guest died; 2 for usage.

Options:
  --mem MB           guest memory (default 2048)
  --timeout SECONDS  bound on the whole run, boot included (default 1800)
  -h, --help         this text

Environment:
  SHARDLINK_VM_CACHE       kernel and initramfs cache, outside the work tree
                           (default $HOME/.cache/shardlink-vm)
  SHARDLINK_VM_KERNEL_PKG  kernel package (default: the -unsigned flavour of
                           what linux-image-amd64 depends on)
  SHARDLINK_VM_BACKLOG     net.core.netdev_max_backlog in the guest (default 4096)
  SHARDLINK_VM_9P_CACHE    9p cache mode (default loose: fast; mmap: coherent
                           with changes the host makes during the run, slow)
  SHARDLINK_VM_DEBUG=1     timestamps of the guest's setup steps
  SHARDLINK_VM_KLOG        kernel log options (default "quiet loglevel=3")
  SHARDLINK_VM_KEEP=1      keep the run directory (job.sh, console.log, stdout.log)

Runs as root. On first use it installs what is missing of qemu-system-x86
busybox-static kmod cpio iproute2 rdma-core ibverbs-utils perftest
libibverbs-dev librdmacm-dev xz-utils, and downloads the kernel package.
EOF
}

VM_TOOL=rxe-vm
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
# shellcheck source=ci/vm/lib.sh
. "$here/vm/lib.sh"

qpid=
tail_pids=()
rundir=
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM HUP
    stop_qemu "$qpid"
    for p in "${tail_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "$rundir" ]; then
        if [ "${SHARDLINK_VM_KEEP:-}" = 1 ]; then msg "run dir kept: $rundir"; else rm -rf "$rundir"; fi
    fi
    exit "$rc"
}

main() {
    local mem=2048 timeout_s=1800 backlog ninep qrc start elapsed p
    parse_options "$@"
    set -- "${command_args[@]}"
    read_vm_settings
    find_guest_files

    ensure_packages
    [ "$(id -u)" -eq 0 ] || msg "warning: not root: the guest's root gets only this user's access to host files"
    prepare_vm_files

    trap cleanup EXIT
    trap 'msg "interrupted"; exit 130' INT
    trap 'msg "terminated"; exit 143' TERM HUP
    rundir=$(new_run_dir rxe-vm) || exit 125
    write_job "$rundir" "export SHARDLINK_IN_VM=1 SHARDLINK_REQUIRE_RDMA=1
export SHARDLINK_RXE_LOOPBACK=rxe0 SHARDLINK_RXE_A=rxea SHARDLINK_RXE_B=rxeb SHARDLINK_RXE_CUT_LINK=vb" "$@"

    qemu_base_args "$rundir" 2 "$mem" "$(guest_kernel_args "$backlog" "$ninep")"
    qemu+=(-nic none)

    start=$(date +%s.%N)
    [ "${SHARDLINK_VM_DEBUG:-}" != 1 ] || msg "starting qemu: $kimage $(basename "$initrd")"
    timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$rundir/qemu.log" 2>&1 &
    qpid=$!
    # Stream the serial logs live; tail exits once qemu is gone and it has read everything.
    tail -n +1 -s 0.2 -f --pid="$qpid" "$rundir/stdout.log" &
    tail_pids+=($!)
    tail -n +1 -s 0.2 -f --pid="$qpid" "$rundir/stderr.log" >&2 &
    tail_pids+=($!)
    tail -n +1 -s 0.2 -f --pid="$qpid" "$rundir/console.log" >&2 &
    tail_pids+=($!)

    # Wait for qemu. The stdout tail ending first means our stdout is gone (say,
    # `| head`): like SIGPIPE on the host, that ends the command (exit 141).
    local done_pid= rc=0
    wait -n -p done_pid "$qpid" "${tail_pids[0]}" || rc=$?
    if [ "$done_pid" = "${tail_pids[0]}" ] && [ $rc -ne 0 ]; then
        msg "stdout closed: stopping the VM"
        exit 141   # cleanup() kills qemu
    fi
    qrc=$rc
    if [ "$done_pid" != "$qpid" ]; then   # the tail saw qemu end first
        qrc=0
        wait "$qpid" || qrc=$?
    fi
    qpid=
    for p in "${tail_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    tail_pids=()
    elapsed=$(seconds_since "$start")

    guest_outcome "$rundir" "$qrc" "$elapsed" "$timeout_s"
    case $outcome in
        124|125) msg "error: $outcome_msg" ;;
        *) [ -z "$outcome_msg" ] || msg "$outcome_msg" ;;
    esac
    exit "$outcome"
}

main "$@"
