#!/usr/bin/env bash
# bench/rdma-soak.sh - the RDMA soaks of the VM stage at production size, in the rxe VM: READS verified 4 KiB reads
# (16 in flight) mixed with COPIES 64 KiB copies (2 in flight) on ONE peer connection over rxea -> rxeb
# (RdmaSoakRdmaTest: afterwards no ring granted, pinned bytes, threads and direct memory at the warm baseline, and
# after close nothing pinned, no node thread, `rdma resource` back to baseline), then ZC_READS SeaweedFS needle reads
# through zero-copy file windows (SeaweedZeroCopySoakRdmaTest). CI runs them at 20,000 reads each: the emulated VM
# serves ~200-550 reads/s, so production volume lives here.
#
#   bench/rdma-soak.sh                                  READS=300000 COPIES=15000 ZC_READS=300000 (~1-1.5 h)
#   READS=100000 COPIES=5000 ZC_READS=0 bench/rdma-soak.sh   (~10 min; ZC_READS=0 skips the zero-copy soak)
#
# Runs on the host: builds, then boots the VM (ci/rxe-vm.sh, holding /tmp/shardlink-vm.lock so it never shares the
# VM with another run). Exit 0 when every check passed; the soaks' summary lines are printed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
READS=${READS:-300000}
COPIES=${COPIES:-15000}
ZC_READS=${ZC_READS:-300000}
LOG=$(mktemp "${TMPDIR:-/tmp}/rdma-soak.XXXXXX.log")
echo "rdma-soak: $READS reads + $COPIES copies, then $ZC_READS zero-copy needle reads, one RDMA connection each;" \
  "host $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
(mvn -B -q -o -DskipTests package && mvn -B -q -o test-compile && mvn -B -q -o dependency:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt) >"$LOG" 2>&1 || { tail -30 "$LOG"; exit 1; }
classes=(io.shardlink.rdma.path.RdmaSoakRdmaTest)
[ "$ZC_READS" -gt 0 ] && classes+=(io.shardlink.rdma.path.SeaweedZeroCopySoakRdmaTest)
# minutes of VM time: ~150 reads/s is the slowest rate seen under emulation, plus boot and JVM start
timeout_s=$(( (READS + ZC_READS) / 150 + COPIES / 20 + 900 ))
rc=0
flock /tmp/shardlink-vm.lock bash ci/rxe-vm.sh --mem 3072 --timeout "$timeout_s" -- \
  env JAVA_TOOL_OPTIONS="-Dshardlink.soak.rdmaReads=$READS -Dshardlink.soak.rdmaCopies=$COPIES -Dshardlink.soak.zeroCopyReads=$ZC_READS" \
  ci/vm-java.sh "${classes[@]}" >>"$LOG" 2>&1 || rc=$?
grep -E '^(RDMA soak|zero-copy soak|rdma resource)|tests (successful|failed)|Exception|Error' "$LOG" | cut -c1-400 | head -20
[ $rc -eq 0 ] && echo "rdma-soak: PASSED (log $LOG)" || echo "rdma-soak: FAILED, exit $rc (log $LOG)"
exit $rc
