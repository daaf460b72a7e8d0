#!/bin/bash
# Run a command in two throwaway QEMU guests, a and b, each with its own kernel and Soft-RoCE (rxe)
# device, joined by two virtual links: cross-host RoCE, tested on one machine.
# Shares the kernel cache, the initramfs, the guest's init and the qemu command line with
# ci/rxe-vm.sh (ci/vm/lib.sh, ci/vm/init, ci/vm/mkinitramfs.sh).
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: ci/rxe-pair.sh [--mem MB] [--timeout SECONDS] -- COMMAND [ARG...]

Boots two throwaway guests, a and b (qemu-system-x86_64, TCG, 1 vCPU each), with
Debian's own kernel (the same cache as ci/rxe-vm.sh), shares the host's / into
both over 9p, and runs COMMAND in each, chrooted, from the repository root.

Each guest has two virtio NICs, each cabled only to its twin in the other guest
by a QEMU stream netdev: one TCP connection over the host's loopback (127.0.0.1;
nothing else is attached, nothing leaves; a lossless cable):
  roce0   the RoCE link: carries the guest's rxe device (rxea in a, rxeb in b)
  plain0  a second, plain link (QUIC, control traffic), so that a test can cut
          RDMA (`ip link set roce0 down`) while the other link survives
Both links have IPv6 link-local addresses only (derived from fixed MACs; no
IPv4), MTU 9000 (SHARDLINK_VM_MTU). lo is up with 127.0.0.1. The rxe port is
ACTIVE and the addresses usable before COMMAND starts, or the run fails (125).

Environment of COMMAND (besides what ci/rxe-vm.sh passes on from the host):
  SHARDLINK_VM_ROLE=a|b            which guest this is
  SHARDLINK_RXE_DEVICE=rxea|rxeb   this guest's rxe device (SHARDLINK_PEER_RXE_DEVICE: the other's)
  SHARDLINK_PEER_ADDR              the other guest's plain0 address, with scope: fe80::...%plain0
  SHARDLINK_PEER_ROCE_ADDR         the other guest's roce0 address, with scope: fe80::...%roce0
  SHARDLINK_LOCAL_ADDR             this guest's plain0 address, with scope
  SHARDLINK_ROCE_LINK=roce0 SHARDLINK_PLAIN_LINK=plain0
  SHARDLINK_IN_VM=pair SHARDLINK_REQUIRE_RDMA=1; memlock unlimited; stdin /dev/null.
/proc /sys /dev /dev/shm /run are each guest's own; everything else is the host's
file system (9p, cache=loose: a guest may not see what the other writes during the
run; coordinate over the links, not through files).

Output: every line of a's stdout goes to stdout prefixed "a| ", b's "b| "; their
stderr and console go to stderr with the same prefixes.
Exit status: 0 when both commands exit 0. When one fails or its guest dies, the
other gets SHARDLINK_PAIR_GRACE seconds (default 20) to finish, then is stopped;
the status is the first failure's: the command's own, 124 on --timeout (both
guests killed), 125 if a guest or RDMA could not be brought up or a guest died;
2 for usage.

Options:
  --mem MB           memory per guest (default 2048)
  --timeout SECONDS  bound on the whole run, boot included (default 1200)
  -h, --help         this text

Environment: SHARDLINK_VM_CACHE, SHARDLINK_VM_KERNEL_PKG, SHARDLINK_VM_BACKLOG,
SHARDLINK_VM_9P_CACHE, SHARDLINK_VM_DEBUG, SHARDLINK_VM_KLOG, SHARDLINK_VM_KEEP as
for ci/rxe-vm.sh; SHARDLINK_VM_MTU (default 9000), SHARDLINK_PAIR_GRACE (default 20),
SHARDLINK_PAIR_VCPUS (vCPUs per guest, default 1: the host has two cores).
Only one VM run at a time on a shared machine: flock /tmp/shardlink-vm.lock ci/rxe-pair.sh ...
EOF
}

VM_TOOL=rxe-pair
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
# shellcheck source=ci/vm/lib.sh
. "$here/vm/lib.sh"

ROLES=(a b)
declare -A qpid=() rundir=() result=() note=()
stream_pids=()

cleanup() {
    local rc=$? r p
    trap - EXIT INT TERM HUP
    for r in "${ROLES[@]}"; do stop_qemu "${qpid[$r]:-}"; done
    for p in "${stream_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for r in "${ROLES[@]}"; do
        [ -n "${rundir[$r]:-}" ] || continue
        if [ "${SHARDLINK_VM_KEEP:-}" = 1 ]; then msg "run dir of $r kept: ${rundir[$r]}"; else rm -rf "${rundir[$r]}"; fi
    done
    exit "$rc"
}

# fe80:: address the kernel derives from MAC (EUI-64, universal/local bit flipped).
link_local() {   # MAC
    local -a m
    IFS=: read -r -a m <<<"$1"
    printf 'fe80::%x:%x:%x:%x\n' $(( (0x${m[0]} ^ 2) << 8 | 0x${m[1]} )) $(( 0x${m[2]} << 8 | 0xff )) \
        $(( 0xfe << 8 | 0x${m[3]} )) $(( 0x${m[4]} << 8 | 0x${m[5]} ))
}

# Two distinct TCP ports on 127.0.0.1 that nothing listens on now (guest a's qemu listens on them).
pick_ports() {
    local -a got=()
    local p tries=0
    while [ ${#got[@]} -lt 2 ]; do
        tries=$((tries + 1))
        [ $tries -le 200 ] || die "no free TCP ports on 127.0.0.1"
        p=$((20000 + RANDOM % 40000))
        [[ " ${got[*]} " == *" $p "* ]] && continue
        [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] || continue
        got+=("$p")
    done
    echo "${got[*]}"
}

# Waits until guest a's qemu listens on PORTS (it does so at once; 30 s at most).
await_listening() {   # PID PORT...
    local pid=$1 p n=0
    shift
    for p in "$@"; do
        while [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; do
            kill -0 "$pid" 2>/dev/null || return 1
            n=$((n + 1))
            [ $n -le 300 ] || return 1
            sleep 0.1
        done
    done
}

# Streams one guest's files with its prefix; tail exits once qemu is gone and all is read.
stream() {   # ROLE
    local r=$1 d=${rundir[$1]} pid=${qpid[$1]}
    tail -n +1 -s 0.2 -f --pid="$pid" "$d/stdout.log" | sed -u "s/^/$r| /" &
    stream_pids+=($!)
    tail -n +1 -s 0.2 -f --pid="$pid" "$d/stderr.log" | sed -u "s/^/$r| /" >&2 &
    stream_pids+=($!)
    tail -n +1 -s 0.2 -f --pid="$pid" "$d/console.log" | sed -u "s/^/$r| /" >&2 &
    stream_pids+=($!)
}

main() {
    local mem=2048 timeout_s=1200 grace vcpus mtu backlog ninep start r other p rc done_pid first= n
    local -a live
    parse_options "$@"
    set -- "${command_args[@]}"
    grace=${SHARDLINK_PAIR_GRACE:-20}
    [[ $grace =~ ^[0-9]+$ ]] || usage_error "SHARDLINK_PAIR_GRACE must be a whole number of seconds"
    vcpus=${SHARDLINK_PAIR_VCPUS:-1}
    [[ $vcpus =~ ^[1-4]$ ]] || usage_error "SHARDLINK_PAIR_VCPUS must be 1..4"
    mtu=${SHARDLINK_VM_MTU:-9000}
    [[ $mtu =~ ^[0-9]+$ ]] && [ "$mtu" -ge 1280 ] && [ "$mtu" -le 65000 ] \
        || usage_error "SHARDLINK_VM_MTU must be in 1280..65000 (IPv6 needs 1280)"
    read_vm_settings
    find_guest_files

    ensure_packages
    [ "$(id -u)" -eq 0 ] || msg "warning: not root: the guests' root gets only this user's access to host files"
    prepare_vm_files

    trap cleanup EXIT
    trap 'msg "interrupted"; exit 130' INT
    trap 'msg "terminated"; exit 143' TERM HUP

    # Fixed MACs (locally administered, 52:54:00 as qemu's own): the addresses follow from them.
    declare -A roce_mac=([a]=52:54:00:5a:0a:01 [b]=52:54:00:5a:0b:01)
    declare -A plain_mac=([a]=52:54:00:5a:0a:02 [b]=52:54:00:5a:0b:02)
    declare -A rxe=([a]=rxea [b]=rxeb)
    local -a ports
    read -r -a ports <<<"$(pick_ports)"
    # A link is a TCP connection on 127.0.0.1: guest a's qemu listens, b's connects. A lossless
    # cable: with a UDP (dgram) netdev rxe's 1 MiB bursts overflowed the socket buffers and
    # ib_write_bw fell to ~2 MB/s on retransmission timeouts.
    declare -A role_net=([a]=server=on [b]=server=off)
    local kargs
    kargs=$(guest_kernel_args "$backlog" "$ninep")

    start=$(date +%s.%N)
    for r in "${ROLES[@]}"; do
        [ "$r" = a ] && other=b || other=a
        rundir[$r]=$(new_run_dir "rxe-pair-$r") || exit 125
        write_job "${rundir[$r]}" "export SHARDLINK_IN_VM=pair SHARDLINK_REQUIRE_RDMA=1 SHARDLINK_VM_ROLE=$r
export SHARDLINK_RXE_DEVICE=${rxe[$r]} SHARDLINK_PEER_RXE_DEVICE=${rxe[$other]}
export SHARDLINK_ROCE_LINK=roce0 SHARDLINK_PLAIN_LINK=plain0
export SHARDLINK_LOCAL_ADDR=$(link_local "${plain_mac[$r]}")%plain0
export SHARDLINK_PEER_ADDR=$(link_local "${plain_mac[$other]}")%plain0
export SHARDLINK_PEER_ROCE_ADDR=$(link_local "${roce_mac[$other]}")%roce0" "$@"
        qemu_base_args "${rundir[$r]}" "$vcpus" "$mem" "$kargs rxevm.net=pair rxevm.rxe=${rxe[$r]} rxevm.mtu=$mtu rxevm.roce_mac=${roce_mac[$r]} rxevm.plain_mac=${plain_mac[$r]} rxevm.roce_ll=$(link_local "${roce_mac[$r]}") rxevm.plain_ll=$(link_local "${plain_mac[$r]}")"
        # romfile=: no option ROM (direct kernel boot needs none; Debian ships it separately).
        qemu+=(
            -netdev "stream,id=roce,${role_net[$r]},addr.type=inet,addr.host=127.0.0.1,addr.port=${ports[0]}"
            -device "virtio-net-pci,netdev=roce,mac=${roce_mac[$r]},romfile="
            -netdev "stream,id=plain,${role_net[$r]},addr.type=inet,addr.host=127.0.0.1,addr.port=${ports[1]}"
            -device "virtio-net-pci,netdev=plain,mac=${plain_mac[$r]},romfile="
        )
        [ "${SHARDLINK_VM_DEBUG:-}" != 1 ] || msg "starting guest $r: ${qemu[*]}"
        timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"${rundir[$r]}/qemu.log" 2>&1 &
        qpid[$r]=$!
        stream "$r"
        if [ "$r" = a ]; then
            await_listening "${qpid[a]}" "${ports[@]}" || die "guest a's qemu does not listen on 127.0.0.1:${ports[*]}"
        fi
    done

    # Wait for the guests. The first failure stops the other one after the grace period: a
    # command waiting for its dead peer would otherwise sit out the whole --timeout.
    n=0
    while [ $n -lt 2 ]; do
        done_pid=
        rc=0
        live=()
        for r in "${ROLES[@]}"; do [ -z "${qpid[$r]:-}" ] || live+=("${qpid[$r]}"); done
        wait -n -p done_pid "${live[@]}" || rc=$?
        for r in "${ROLES[@]}"; do
            [ -n "${qpid[$r]:-}" ] && [ "$done_pid" = "${qpid[$r]}" ] || continue
            qpid[$r]=
            n=$((n + 1))
            guest_outcome "${rundir[$r]}" "$rc" "$(seconds_since "$start")" "$timeout_s"
            result[$r]=$outcome
            note[$r]=$outcome_msg
            [ -n "$outcome_msg" ] && msg "guest $r: $outcome_msg"
            if [ "$outcome" -ne 0 ] && [ -z "$first" ]; then
                first=$r
                [ "$r" = a ] && other=b || other=a
                if [ -n "${qpid[$other]}" ]; then
                    msg "guest $r failed: giving guest $other ${grace}s to finish"
                    p=0
                    while kill -0 "${qpid[$other]}" 2>/dev/null && [ $p -lt $((grace * 10)) ]; do
                        sleep 0.1
                        p=$((p + 1))
                    done
                    if kill -0 "${qpid[$other]}" 2>/dev/null; then
                        msg "stopping guest $other"
                        stop_qemu "${qpid[$other]}"
                    fi
                fi
            fi
        done
        if [ -z "$done_pid" ]; then
            die "lost track of the guests (wait: $rc)"
        fi
    done
    for p in "${stream_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    stream_pids=()

    if [ -n "$first" ]; then
        msg "error: guest $first failed first (exit ${result[$first]}: ${note[$first]}); a: ${result[a]}, b: ${result[b]}; $(seconds_since "$start")s"
        exit "${result[$first]}"
    fi
    msg "both commands exited 0 ($(seconds_since "$start")s)"
    exit 0
}

main "$@"
