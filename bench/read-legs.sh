#!/usr/bin/env bash
# bench/read-legs.sh - where the time of a 4 KiB RDMA blob read goes, in ONE rxe VM run (rxea -> rxeb):
#   1. perftest: ib_read_lat and ib_send_lat 4 KiB (typical, p99, p99.9), the references;
#   2. the floor of a shardlink-shaped exchange over the C shim (build/tests-native/pingpong_lat: SEND_IMM request,
#      4 KiB WRITE_IMM answer) per polling mode, with and without the Java path's thread hops (+hops), and with the
#      receive-packet steering the VM sets (rps_cpus on va/vb) changed for a moment (RPS=... cases, restored after;
#      the rxe out-of-sequence / duplicate counters are printed before and after);
#   3. the legs of shardlink's own read (io.shardlink.rdma.path.ReadLegsBench, -Dshardlink.bench.readTrace=true).
# Build on the host first (cmake --build build; mvn package + test-compile + dependency:build-classpath, see
# bench/rdma-vs-perftest.sh), then: ci/rxe-vm.sh --mem 3072 --timeout 600 -- bench/read-legs.sh
# Environment: PP_MODES (event,adaptive,event+hops,adaptive+hops,busy: last, it may starve rxe), PP_ITERS (2000), RPS_CASES ("1 0": steer
#   to CPU 0 only, no steering; "" skips), LEG_CASES (event,event+nb,adaptive,adaptive+nb; +nb: the source declared nonBlocking, +poller: readsOnPoller), LEG_READS (1000),
#   LAT_ITERS (1000), DEV_A/DEV_B.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV_A=${DEV_A:-${SHARDLINK_RXE_A:-rxea}}
DEV_B=${DEV_B:-${SHARDLINK_RXE_B:-rxeb}}
PP_MODES=${PP_MODES:-event,adaptive,event+hops,adaptive+hops,busy}
PP_ITERS=${PP_ITERS:-2000}
RPS_CASES=${RPS_CASES-1 0}
LEG_CASES=${LEG_CASES:-event,event+nb,adaptive,adaptive+nb}
LEG_READS=${LEG_READS:-1000}
LAT_ITERS=${LAT_ITERS:-1000}
PP=$ROOT/build/tests-native/pingpong_lat
OUT=$(mktemp -d "${TMPDIR:-/tmp}/read-legs.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
die() { echo "read-legs: $*" >&2; exit 1; }
. "$ROOT/bench/perftest-lib.sh"
[ -x "$PP" ] || die "$PP missing: cmake --build build first"
[ -d "/sys/class/infiniband/$DEV_A" ] || die "no $DEV_A: run inside the VM (ci/rxe-vm.sh -- bench/read-legs.sh)"
echo "read-legs: $DEV_A -> $DEV_B, $(uname -r), $(nproc) vCPU(s), rps_cpus va=$(cat /sys/class/net/va/queues/rx-0/rps_cpus 2>/dev/null) vb=$(cat /sys/class/net/vb/queues/rx-0/rps_cpus 2>/dev/null)"
counters() { rdma statistic show link "$DEV_A/1" 2>/dev/null | grep -o 'out_of_seq_request [0-9]*\|duplicate_request [0-9]*\|rcvd_seq_err [0-9]*\|send_rnr_err [0-9]*\|retry_exceeded_err [0-9]*' | tr '\n' ' '
                  rdma statistic show link "$DEV_B/1" 2>/dev/null | grep -o 'out_of_seq_request [0-9]*\|duplicate_request [0-9]*\|rcvd_seq_err [0-9]*' | sed 's/^/b:/' | tr '\n' ' '; }

perf read_lat 18616 ib_read_lat -s 4096 -n "$LAT_ITERS"
perf send_lat 18617 ib_send_lat -s 4096 -n "$LAT_ITERS"
echo "perftest columns: $(awk '/#bytes/ {print; exit}' "$OUT/read_lat.txt")"
echo "ib_read_lat 4 KiB: $(perfrow read_lat)"
echo "ib_send_lat 4 KiB: $(perfrow send_lat)"

echo "counters before: $(counters)"
"$PP" "$PP_MODES" "$PP_ITERS" | sed 's/^PINGPONG {/PINGPONG {"rps":"default",/' || echo "read-legs: pingpong_lat failed (above); going on" >&2
echo "counters after: $(counters)"
for rps in $RPS_CASES; do
  saved=()
  for q in /sys/class/net/va/queues/rx-*/rps_cpus /sys/class/net/vb/queues/rx-*/rps_cpus; do
    saved+=("$q=$(cat "$q")"); echo "$rps" >"$q"
  done
  "$PP" event,adaptive "$PP_ITERS" | sed "s/^PINGPONG {/PINGPONG {\"rps\":\"$rps\",/"
  rc=$?
  for s in "${saved[@]}"; do echo "${s#*=}" >"${s%%=*}"; done
  echo "counters after rps=$rps: $(counters)"
  [ $rc = 0 ] || die "pingpong_lat failed with rps_cpus=$rps"
done

[ -f "$ROOT/target/test-classpath.txt" ] || die "build on the host first (see bench/rdma-vs-perftest.sh)"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# A JVM under QEMU's TCG emulation has been seen to die in freshly JIT-compiled code (SIGSEGV in JDK code, e.g. in
# C1 code of java.lang.invoke): that is retried once and said so; any other failure is final.
for attempt in 1 2; do
  "$JAVA" -Xmx512m -XX:MaxDirectMemorySize=512m -XX:-UseSHA -Dshardlink.bench.readTrace=true \
    -XX:ErrorFile="${TMPDIR:-/tmp}/shardlink-hs_err_%p.log" \
    -Dshardlink.native.path="$ROOT/target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so" \
    -cp "$ROOT/target/classes:$ROOT/target/test-classes:$(cat "$ROOT/target/test-classpath.txt")" \
    io.shardlink.rdma.path.ReadLegsBench "$LEG_CASES" "$LEG_READS" >"$OUT/legs.txt" 2>"$OUT/legs.err"
  rc=$?
  grep '^LEGS' "$OUT/legs.txt"
  [ $rc = 0 ] && break
  if [ $rc -ge 128 ] && [ $attempt = 1 ]; then
    echo "read-legs: the JVM crashed (exit $rc, $(grep -m1 'Problematic frame' -A1 "$OUT/legs.txt" | tail -1)); retrying once" >&2
    continue
  fi
  tail -30 "$OUT/legs.err" >&2; die "ReadLegsBench failed (exit $rc)"
done
echo "counters at the end: $(counters)"
