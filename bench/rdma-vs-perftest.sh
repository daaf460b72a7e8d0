#!/usr/bin/env bash
# bench/rdma-vs-perftest.sh - shardlink over RDMA vs perftest on the same rxe devices, in one VM run:
#   read:  shardlink 4 KiB blob read p50, one at a time          vs  ib_read_lat -s 4096      (target <= 1.5x)
#   copy:  shardlink shard copy, default settings (4 MiB chunks) vs  ib_write_bw -s 1048576   (target >= 0.9)
#   rate:  shardlink 4 KiB reads/s with 64 in flight             vs  ib_read_bw -s 4096 message rate (reported)
# for each completion-poller mode (busy, adaptive, event), with the process CPU seconds per 10,000 reads.
# Interleaved, so that drift of the host and the order of modes cancel: perftest, mode A, mode B, perftest,
# mode B, mode A, perftest, ... (ROUNDS rounds, a last perftest after them). Each shardlink run is set beside the
# perftest run next to it (adjacent pairs), and the script prints per mode the medians (with min-max) of the
# values and of those adjacent-pair ratios. A discarded warm-up round of every mode comes first.
# Run it inside the rxe VM; build on the host first (Maven is far too slow under emulation):
#   mvn -o -q -DskipTests package && mvn -o -q test-compile && mvn -o -q dependency:build-classpath \
#     -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
#   ci/rxe-vm.sh --mem 3072 --timeout 900 -- env MODES=event,adaptive bench/rdma-vs-perftest.sh
# (only SHARDLINK_* variables pass into the VM: set the others with env inside it, as above)
# Environment: MODES (adaptive,event; busy starves rxe on 2 vCPUs), ROUNDS (3), LAT_READS (1000), RATE_READS
#   (5000), SIZE_MIB (32), REPEAT (2 copies per run), ON_POLLER (false: serve every read on the poller),
#   SOURCE (nonblocking: the in-memory source declared BlobSource.nonBlocking(); blocking: undeclared),
#   VARIANTS (false: the 4 MiB chunk copy variants at the end), BW_ITERS (100), LAT_ITERS (1000),
#   RPS (unset: the VM's receive-packet steering as it is; a CPU mask, e.g. 1, sets rps_cpus of va/vb to it for
#   the run, perftest included, and restores it after), DEV_A/DEV_B (default $SHARDLINK_RXE_A/$SHARDLINK_RXE_B or
#   rxea/rxeb).
# Exits non-zero when shardlink has no RDMA path (it says why) or a tool fails: never prints fake ratios.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV_A=${DEV_A:-${SHARDLINK_RXE_A:-rxea}}
DEV_B=${DEV_B:-${SHARDLINK_RXE_B:-rxeb}}
MODES=${MODES:-adaptive,event}
ROUNDS=${ROUNDS:-3}
LAT_READS=${LAT_READS:-1000}
RATE_READS=${RATE_READS:-5000}
SIZE_MIB=${SIZE_MIB:-32}
REPEAT=${REPEAT:-2}
ON_POLLER=${ON_POLLER:-false}
SOURCE=${SOURCE:-nonblocking}
VARIANTS=${VARIANTS:-false}
BW_ITERS=${BW_ITERS:-100}
LAT_ITERS=${LAT_ITERS:-1000}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/rdma-vs-perftest.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
die() { echo "rdma-vs-perftest: $*" >&2; exit 1; }

for t in ib_write_bw ib_read_lat ib_read_bw ib_send_lat python3; do
  command -v "$t" >/dev/null || die "$t not found (perftest / python3 missing)"
done
[ -d "/sys/class/infiniband/$DEV_A" ] && [ -d "/sys/class/infiniband/$DEV_B" ] \
  || die "RDMA devices $DEV_A and $DEV_B not present (run inside the VM: ci/rxe-vm.sh -- bench/rdma-vs-perftest.sh)"
if [ -n "${RPS:-}" ]; then
  rps_saved=()
  for q in /sys/class/net/va/queues/rx-*/rps_cpus /sys/class/net/vb/queues/rx-*/rps_cpus; do
    rps_saved+=("$q=$(cat "$q")"); echo "$RPS" >"$q" || die "cannot set $q to $RPS"
  done
  trap 'for s in "${rps_saved[@]}"; do echo "${s#*=}" >"${s%%=*}"; done; rm -rf "$OUT"' EXIT
fi
echo "rdma-vs-perftest: $DEV_A -> $DEV_B, $(uname -r), $(nproc) vCPU(s), rps_cpus va=$(cat /sys/class/net/va/queues/rx-0/rps_cpus 2>/dev/null), modes $MODES, $ROUNDS rounds, $SOURCE source"

# perftest: server on DEV_B, client on DEV_A (perf, perfrow)
. "$ROOT/bench/perftest-lib.sh"

# one perftest set (k = 1, 2, ...): the references of every ratio, run between shardlink runs
perftest_set() {
  local k=$1
  perf "write_bw.$k" 18515 ib_write_bw -s 1048576 -n "$BW_ITERS"
  perf "read_lat.$k" 18516 ib_read_lat -s 4096 -n "$LAT_ITERS"
  perf "send_lat.$k" 18517 ib_send_lat -s 4096 -n "$LAT_ITERS"
  perf "read_bw.$k" 18519 ib_read_bw -s 4096 -n "$((BW_ITERS * 50))"
  echo "perftest $k ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg)): ib_write_bw 1 MiB: $(perfrow "write_bw.$k" | awk '{print $4}') MiB/s;" \
    "ib_read_lat: $(perfrow "read_lat.$k" | awk '{print $5}') us; ib_send_lat: $(perfrow "send_lat.$k" | awk '{print $5}') us;" \
    "ib_read_bw: $(perfrow "read_bw.$k" | awk '{print $5}') Mpps" >&2
}

# shardlink: two nodes in one JVM (RDMA_ONLY, default settings), sender/reader on DEV_A, server on DEV_B. The JVM
# prints "PERFTEST k" and waits for a line on its stdin: the perftest set runs meanwhile (the JVM idle, no nodes).
[ -f "$ROOT/target/test-classpath.txt" ] && [ -d "$ROOT/target/test-classes" ] \
  || die "build on the host first (see the header: package, test-compile, dependency:build-classpath)"
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
# A JVM under QEMU's TCG emulation has been seen to die in freshly JIT-compiled JDK code (SIGSEGV, SIGILL in C1
# code of the SHA-2 digest while TLS starts a node, or of the jar reader at start-up; 4 of 6 bench JVMs on
# 2026-11-30): then the whole interleaved run starts again, at most twice, and says so.
for attempt in 1 2 3; do
  : >"$OUT/shardlink.txt"
  rm -f "$OUT"/*.[0-9]*.txt
  coproc BENCH { SHARDLINK_RXE_A=$DEV_A SHARDLINK_RXE_B=$DEV_B exec "$JAVA" -Xmx1g -XX:MaxDirectMemorySize=1g -XX:-UseSHA \
      -XX:ErrorFile="${TMPDIR:-/tmp}/shardlink-hs_err_%p.log" \
      -Dshardlink.native.path="$ROOT/target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so" \
      -cp "$ROOT/target/classes:$ROOT/target/test-classes:$(cat "$ROOT/target/test-classpath.txt")" \
      io.shardlink.rdma.path.RdmaEngineBench "$MODES" "$LAT_READS" "$RATE_READS" "$SIZE_MIB" "$REPEAT" "$ON_POLLER" \
      "$ROUNDS" "$VARIANTS" "$SOURCE" 2>"$OUT/shardlink.err"; }
  # own copies of the coprocess's pipes and pid: bash unsets BENCH and BENCH_PID when it ends
  exec {bench_out}<&"${BENCH[0]}" {bench_in}>&"${BENCH[1]}"
  bench_pid=$BENCH_PID
  while IFS= read -r line <&"$bench_out"; do
    case $line in
      PERFTEST\ *) perftest_set "${line#PERFTEST }"; echo go >&"$bench_in" ;;
      RESULT\ *|COPY\ *) echo "$line" | tee -a "$OUT/shardlink.txt" | cut -c1-400 ;;
    esac
  done
  wait "$bench_pid"
  rc=$?
  exec {bench_out}<&- {bench_in}>&-
  [ $rc -eq 0 ] && break
  if [ $rc -ge 128 ] && [ $attempt -lt 3 ]; then
    echo "rdma-vs-perftest: the shardlink JVM crashed (exit $rc: $(grep -h -m1 -A1 'Problematic frame' \
      "${TMPDIR:-/tmp}/shardlink-hs_err_$bench_pid.log" 2>/dev/null | tail -1)); running the whole bench again" >&2
    continue
  fi
  echo "rdma-vs-perftest: shardlink failed (exit $rc), so no ratios:" >&2
  tail -40 "$OUT/shardlink.err" >&2
  exit 1
done

python3 - "$OUT" <<'PY'
import json, os, statistics, sys
d = sys.argv[1]
lines = open(os.path.join(d, "shardlink.txt")).read().splitlines()
results = [json.loads(l[len("RESULT "):]) for l in lines if l.startswith("RESULT ")]
if not results:
    sys.exit("rdma-vs-perftest: shardlink printed no RESULT line")
def row(name):
    lines = open(os.path.join(d, name + ".txt")).read().splitlines()
    for i, l in enumerate(lines):
        if l.strip().startswith("#bytes"):
            return l.split(), lines[i + 1].split()
    sys.exit("rdma-vs-perftest: no result row in " + name)
def perf(k):
    """perftest set k: MB/s (10^6 B/s; perftest's MB is 2^20 B), typical latencies (us), read msg/s."""
    _, w = row(f"write_bw.{k}")
    _, rl = row(f"read_lat.{k}")
    _, sl = row(f"send_lat.{k}")
    _, rb = row(f"read_bw.{k}")
    # latency columns: #bytes #iterations t_min t_max t_typical t_avg t_stdev 99% 99.9%
    return {"write_mb": float(w[3]) * 1048576 / 1e6, "read_lat": float(rl[4]), "read_lat_p99": float(rl[7]),
            "send_lat": float(sl[4]), "send_lat_p99": float(sl[7]), "read_rate": float(rb[4]) * 1e6}
ks = sorted({int(f.split(".")[1]) for f in os.listdir(d) if f.startswith("read_lat.") and f.endswith(".txt")
             and "server" not in f})
P = {k: perf(k) for k in ks}
def med(xs):
    xs = sorted(xs)
    return f"{statistics.median(xs):.2f} ({xs[0]:.2f}-{xs[-1]:.2f})" if len(xs) > 1 else f"{xs[0]:.2f}"
def medi(xs):
    xs = sorted(xs)
    return f"{statistics.median(xs):.0f} ({xs[0]:.0f}-{xs[-1]:.0f})" if len(xs) > 1 else f"{xs[0]:.0f}"
print(f"perftest, {len(ks)} runs, median (min-max): ib_read_lat 4 KiB typical {medi([p['read_lat'] for p in P.values()])} us"
      f" (p99 {medi([p['read_lat_p99'] for p in P.values()])}); ib_send_lat 4 KiB typical {medi([p['send_lat'] for p in P.values()])}"
      f" us (p99 {medi([p['send_lat_p99'] for p in P.values()])}); ib_write_bw 1 MiB {med([p['write_mb'] for p in P.values()])} MB/s;"
      f" ib_read_bw 4 KiB {medi([p['read_rate'] for p in P.values()])} msg/s")
# the adjacent perftest of a run: odd rounds run P(r) A B, even rounds P(r) B A -> the first mode of a round sits
# after P(r), the last before P(r+1); with more than two modes, middle ones take P(r)
modes = []
for r in results:
    if r["mode"] not in modes:
        modes.append(r["mode"])
def adjacent(r):
    order = modes if r["round"] % 2 == 1 else modes[::-1]
    i = order.index(r["mode"])
    return P[r["round"] + 1] if i == len(order) - 1 and len(order) > 1 else P[r["round"]]
print("| mode | runs | read p50 us | / adjacent ib_read_lat (<= 1.5) | read p99 us | reads/s at 64 "
      "| / ib_read_bw msg rate | CPU s per 10k reads | copy MB/s | / adjacent ib_write_bw 1 MiB (>= 0.9) |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for m in modes:
    rs = [r for r in results if r["mode"] == m and "error" not in r]
    errs = [r for r in results if r["mode"] == m and "error" in r]
    for e in errs:
        print(f"{m} round {e['round']} failed: {e['error']}")
    if not rs:
        continue
    rr = [r["read_p50_us"] / adjacent(r)["read_lat"] for r in rs]
    cr = [r["copy_mb_s"] / adjacent(r)["write_mb"] for r in rs]
    qr = [r["reads_per_s_64"] / adjacent(r)["read_rate"] for r in rs]
    print(f"| {m}{' (reads on poller)' if rs[0]['reads_on_poller'] else ''}, {rs[0].get('source', '')} source | {len(rs)} "
          f"| {medi([r['read_p50_us'] for r in rs])} | **{med(rr)}** {'met' if statistics.median(rr) <= 1.5 else 'MISSED'} "
          f"| {medi([r['read_p99_us'] for r in rs])} | {medi([r['reads_per_s_64'] for r in rs])} | {med(qr)} "
          f"| {med([r['cpu_s_per_10k_reads'] for r in rs])} | {med([r['copy_mb_s'] for r in rs])} "
          f"| **{med(cr)}** {'met' if statistics.median(cr) >= 0.9 else 'MISSED'} |")
for r in results:
    if "error" in r:
        continue
    a = adjacent(r)
    print(f"  round {r['round']} {r['mode']}: read p50 {r['read_p50_us']:.0f} us / {a['read_lat']:.0f} = "
          f"{r['read_p50_us'] / a['read_lat']:.2f}; copy {r['copy_mb_s']:.1f} / {a['write_mb']:.1f} = "
          f"{r['copy_mb_s'] / a['write_mb']:.2f} {r['copies_mb_s']}; reads/s {r['reads_per_s_64']:.0f}; "
          f"CPU {r['cpu_s_per_10k_reads']:.1f} s/10k")
for c in [json.loads(l[len("COPY "):]) for l in lines if l.startswith("COPY ")]:
    bw = P[ks[-1]]["write_mb"]
    print(f"copy, {c['chunk_mib']} MiB chunks {'split into 1 MiB WRITEs' if c['split'] else 'as one WRITE each'}: "
          f"{c['copy_mb_s']:.1f} MB/s -> {c['copy_mb_s'] / bw:.2f} of the last ib_write_bw 1 MiB ({c['copies_mb_s']})")
PY
