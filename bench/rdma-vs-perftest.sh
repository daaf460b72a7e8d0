#!/usr/bin/env bash
# bench/rdma-vs-perftest.sh - shardlink over RDMA vs perftest on the same rxe devices, in one VM run:
#   read:  shardlink 4 KiB blob read p50, one at a time          vs  ib_read_lat -s 4096      (target <= 1.5x)
#   copy:  shardlink shard copy, default chunk size (4 MiB)      vs  ib_write_bw -s 1048576   (target >= 0.9)
#   rate:  shardlink 4 KiB reads/s with 64 in flight             vs  ib_read_bw -s 4096 message rate (reported)
# for each completion-poller mode (busy, adaptive, event), with the process CPU seconds per 10,000 reads.
# Run it inside the rxe VM; build on the host first (Maven is far too slow under emulation):
#   mvn -o -q -DskipTests package && mvn -o -q test-compile && mvn -o -q dependency:build-classpath \
#     -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
#   ci/rxe-vm.sh --mem 3072 -- bench/rdma-vs-perftest.sh
# Environment: MODES (busy,adaptive,event), LAT_READS (2000), RATE_READS (10000), SIZE_MIB (32), REPEAT (3),
#   ON_POLLER (false: serve reads on the poller), ITERS (perftest iterations, 1000 for latency, 200 for
#   bandwidth), DEV_A/DEV_B (default $SHARDLINK_RXE_A/$SHARDLINK_RXE_B or rxea/rxeb).
# Exits non-zero when shardlink has no RDMA path (it says why) or a tool fails: never prints fake ratios.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV_A=${DEV_A:-${SHARDLINK_RXE_A:-rxea}}
DEV_B=${DEV_B:-${SHARDLINK_RXE_B:-rxeb}}
MODES=${MODES:-busy,adaptive,event}
LAT_READS=${LAT_READS:-2000}
RATE_READS=${RATE_READS:-10000}
SIZE_MIB=${SIZE_MIB:-32}
REPEAT=${REPEAT:-3}
ON_POLLER=${ON_POLLER:-false}
BW_ITERS=${BW_ITERS:-200}
LAT_ITERS=${LAT_ITERS:-1000}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/rdma-vs-perftest.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
die() { echo "rdma-vs-perftest: $*" >&2; exit 1; }

for t in ib_write_bw ib_read_lat ib_read_bw ib_send_lat python3; do
  command -v "$t" >/dev/null || die "$t not found (perftest / python3 missing)"
done
[ -d "/sys/class/infiniband/$DEV_A" ] && [ -d "/sys/class/infiniband/$DEV_B" ] \
  || die "RDMA devices $DEV_A and $DEV_B not present (run inside the VM: ci/rxe-vm.sh -- bench/rdma-vs-perftest.sh)"
echo "rdma-vs-perftest: $DEV_A -> $DEV_B, $(uname -r), $(nproc) vCPU(s)"

# perftest: server on DEV_B, client on DEV_A, out-of-band exchange over 127.0.0.1, GID index 0
# Under emulation a run sometimes loses perftest's closing out-of-band handshake ("ethernet_read_keys: Couldn't
# read remote address" after the test ran): such a run is repeated, at most twice, and said so on stderr.
perf() { # perf NAME PORT TOOL ARGS...: runs TOOL server + client; the client's output in $OUT/NAME.txt
  local name=$1 port=$2 tool=$3; shift 3
  local ok=0 run srv
  for run in 1 2 3; do
    "$tool" -d "$DEV_B" -x 0 -p "$port" "$@" >"$OUT/$name.server.txt" 2>&1 &
    srv=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      sleep 1
      if "$tool" -d "$DEV_A" -x 0 -p "$port" "$@" 127.0.0.1 >"$OUT/$name.txt" 2>&1; then ok=1; break; fi
      grep -q "Couldn't connect\|Unable to open\|connect to" "$OUT/$name.txt" || break
    done
    if [ $ok = 1 ]; then wait "$srv" 2>/dev/null || true; break; fi
    kill "$srv" 2>/dev/null; wait "$srv" 2>/dev/null || true
    [ $run = 3 ] || echo "rdma-vs-perftest: $tool $* failed (run $run: $(grep -m1 -i "couldn't\|fail\|error" \
      "$OUT/$name.txt")); running it again" >&2
    port=$((port + 100))
  done
  [ $ok = 1 ] || { cat "$OUT/$name.txt" "$OUT/$name.server.txt" >&2; die "$tool failed"; }
}
# the numbers row that follows perftest's "#bytes" header
perfrow() { awk '/#bytes/ {getline; print; exit}' "$OUT/$1.txt"; }

perf write_bw 18515 ib_write_bw -s 1048576 -n "$BW_ITERS"
# the same with shardlink's copy window (16 x 1 MiB in flight; perftest's default is 128)
perf write_bw_t16 18518 ib_write_bw -s 1048576 -n "$BW_ITERS" -t 16
perf read_lat 18516 ib_read_lat -s 4096 -n "$LAT_ITERS"
perf send_lat 18517 ib_send_lat -s 4096 -n "$LAT_ITERS"
perf write_bw_4m 18520 ib_write_bw -s 4194304 -n "$((BW_ITERS / 4))"
perf read_bw 18519 ib_read_bw -s 4096 -n "$((BW_ITERS * 50))"
echo "ib_write_bw 1 MiB:  $(perfrow write_bw)"
echo "ib_write_bw -t 16:  $(perfrow write_bw_t16)"
echo "ib_read_lat 4 KiB:  $(perfrow read_lat)"
echo "ib_send_lat 4 KiB:  $(perfrow send_lat)"
echo "ib_read_bw 4 KiB:   $(perfrow read_bw)"
echo "ib_write_bw 4 MiB:  $(perfrow write_bw_4m)"

# shardlink: two nodes in one JVM (RDMA_ONLY, default settings), sender/reader on DEV_A, server on DEV_B, per mode
[ -f "$ROOT/target/test-classpath.txt" ] && [ -d "$ROOT/target/test-classes" ] \
  || die "build on the host first (see the header: package, test-compile, dependency:build-classpath)"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# A JVM under QEMU's TCG emulation has been seen to die in freshly JIT-compiled code (SIGSEGV in JDK code):
# that is retried once and reported; any other failure is final.
for attempt in 1 2; do
  SHARDLINK_RXE_A=$DEV_A SHARDLINK_RXE_B=$DEV_B "$JAVA" -Xmx1g -XX:MaxDirectMemorySize=1g -XX:-UseSHA \
    -XX:ErrorFile="${TMPDIR:-/tmp}/shardlink-hs_err_%p.log" \
    -Dshardlink.native.path="$ROOT/target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so" \
    -cp "$ROOT/target/classes:$ROOT/target/test-classes:$(cat "$ROOT/target/test-classpath.txt")" \
    io.shardlink.rdma.path.RdmaEngineBench "$MODES" "$LAT_READS" "$RATE_READS" "$SIZE_MIB" "$REPEAT" "$ON_POLLER" \
    >"$OUT/shardlink.txt" 2>"$OUT/shardlink.err"
  rc=$?
  [ $rc -eq 0 ] && break
  if [ $rc -ge 128 ] && [ $attempt = 1 ]; then
    echo "rdma-vs-perftest: the shardlink JVM crashed (exit $rc); retrying once" >&2
    continue
  fi
  echo "rdma-vs-perftest: shardlink failed (exit $rc), so no ratios:" >&2
  tail -40 "$OUT/shardlink.err" >&2
  exit 1
done
grep '^RESULT\|^COPY' "$OUT/shardlink.txt"

python3 - "$OUT" <<'PY'
import json, os, sys
d = sys.argv[1]
results = [json.loads(l[len("RESULT "):]) for l in open(os.path.join(d, "shardlink.txt")) if l.startswith("RESULT ")]
if not results:
    sys.exit("rdma-vs-perftest: shardlink printed no RESULT line")
def row(name):
    lines = open(os.path.join(d, name + ".txt")).read().splitlines()
    for i, l in enumerate(lines):
        if l.strip().startswith("#bytes"):
            return l.split(), lines[i + 1].split()
    sys.exit("rdma-vs-perftest: no result row in " + name)
def bw(name):
    h, v = row(name)
    mib = float(v[3])                # BW average[MB/sec]; perftest's MB is 2^20 bytes
    return mib * 1048576 / 1e6       # -> 10^6 bytes/s, shardlink's unit
def typical(name):
    h, v = row(name)
    return float(v[4])               # t_typical[usec] (perftest's median-like figure)
bw_mb, bw16_mb, bw4_mb = bw("write_bw"), bw("write_bw_t16"), bw("write_bw_4m")
read_lat, send_lat = typical("read_lat"), typical("send_lat")
h, v = row("read_bw")
read_mpps = float(v[4])              # MsgRate[Mpps]
print(f"perftest: ib_write_bw 1 MiB {bw_mb:.1f} MB/s (-t 16: {bw16_mb:.1f}; 4 MiB: {bw4_mb:.1f}), ib_read_lat 4 KiB {read_lat:.1f} us, "
      f"ib_send_lat 4 KiB {send_lat:.1f} us, ib_read_bw 4 KiB {read_mpps * 1e6:.0f} msg/s")
print("| mode | read p50 (p99) | / ib_read_lat (<= 1.5) | reads/s at 64 in flight | / ib_read_bw msg rate "
      "| CPU s per 10k reads | copy MB/s (chunk) | / ib_write_bw 1 MiB (>= 0.9) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for r in results:
    if "error" in r:
        print(f"| {r['mode']} | failed: {r['error']} | | | | | | |")
        continue
    rr = r["read_p50_us"] / read_lat
    rc = r["copy_mb_s"] / bw_mb
    print(f"| {r['mode']}{' (reads on poller)' if r['reads_on_poller'] else ''} | {r['read_p50_us']:.0f} us "
          f"({r['read_p99_us']:.0f}) | {rr:.2f} {'met' if rr <= 1.5 else 'MISSED'} | {r['reads_per_s_64']:.0f} "
          f"| {r['reads_per_s_64'] / (read_mpps * 1e6):.2f} | {r['cpu_s_per_10k_reads']:.2f} "
          f"| {r['copy_mb_s']:.1f} ({r['chunk'] >> 20} MiB) | {rc:.2f} {'met' if rc >= 0.9 else 'MISSED'} |")
for c in [json.loads(l[len("COPY "):]) for l in open(os.path.join(d, "shardlink.txt")) if l.startswith("COPY ")]:
    print(f"copy, {c['chunk_mib']} MiB chunks {'split into 1 MiB WRITEs' if c['split'] else 'as one WRITE each'}: "
          f"{c['copy_mb_s']:.1f} MB/s -> {c['copy_mb_s'] / bw_mb:.2f} of ib_write_bw 1 MiB ({c['copies_mb_s']})")
PY
