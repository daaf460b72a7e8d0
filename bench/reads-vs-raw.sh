#!/usr/bin/env bash
# bench/reads-vs-raw.sh - shardlink's QUIC blob read vs a raw Netty QUIC request/response (a fresh stream per
# request, shardlink's loopback settings: same mutual TLS 1.3, UDP payload, flow-control windows, stream limit)
# vs a blocking TCP request/response, all over 127.0.0.1, one JVM each, interleaved in one run.
#
#   bench/reads-vs-raw.sh                    READS=10000, READ_SIZE=4k, DEPTH=64, 3 runs of each (interleaved)
#   RUNS=5 READS=20000 bench/reads-vs-raw.sh
#   BEFORE=/path/to/other/checkout bench/reads-vs-raw.sh   also that checkout's shardlink, interleaved (a change's
#                                            before/after in the same run; it needs 'bench --cpu' too)
#
# Per run: shardlink `bench --transport quic --read-depth 1` (latency) and `--read-depth $DEPTH` (throughput),
# raw Netty QUIC at depth 1 and at $DEPTH (its ceiling on this machine: a stream per request, $DEPTH in flight),
# TCP at depth 1; each after WARMUP unmeasured requests (default 5000, so the JIT has settled), each with
# --cpu: the process's CPU per request (user + sys, all threads, JIT and GC included), which does not depend on
# how busy the machine is the way latency does. Prints the median of the runs per path and the issue-12 ratios:
#   shardlink depth-1 p50 / raw Netty QUIC p50   (target <= 1.0)
#   shardlink depth-DEPTH reads/s / depth-1 reads/s   (target >= 10), beside raw QUIC's own DEPTH/1 ratio
# Exit 0 when every run succeeded (a missed target is reported, not an error).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SL=$ROOT/bin/shardlink
READS=${READS:-10000}
READ_SIZE=${READ_SIZE:-4k}
DEPTH=${DEPTH:-64}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-5000}
BEFORE=${BEFORE:-}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/reads-vs-raw.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

"$SL" --version >/dev/null # builds the jar if needed, before anything is timed
[ -z "$BEFORE" ] || "$BEFORE/bin/shardlink" --version >/dev/null
echo "reads-vs-raw: $READS reads of $READ_SIZE over 127.0.0.1 after $WARMUP warm-up, $RUNS runs, $(nproc) cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg)${BEFORE:+, before = $BEFORE}"
field() { tail -1 "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
sl() { # sl BIN DEPTH OUTFILE
  "$1" bench --json --cpu --transport quic --size 4m --repeat 1 --reads "$READS" --read-size "$READ_SIZE" \
    --read-warmup "$WARMUP" --read-depth "$2" | grep '"op":"read"' >>"$3"
}
for i in $(seq 1 "$RUNS"); do
  # --size: the blob the reads come from (one small copy first puts it in place)
  sl "$SL" 1 "$OUT/sl1.json"
  sl "$SL" "$DEPTH" "$OUT/slN.json"
  if [ -n "$BEFORE" ]; then
    sl "$BEFORE/bin/shardlink" 1 "$OUT/before1.json"
    sl "$BEFORE/bin/shardlink" "$DEPTH" "$OUT/beforeN.json"
  fi
  "$SL" rawbench --json --cpu --kind quic --op read --reads "$READS" --read-size "$READ_SIZE" --read-warmup "$WARMUP" \
    >>"$OUT/raw-quic.json" 2>"$OUT/raw-quic.err"
  "$SL" rawbench --json --cpu --kind quic --op read --reads "$READS" --read-size "$READ_SIZE" --read-warmup "$WARMUP" \
    --read-depth "$DEPTH" >>"$OUT/raw-quicN.json" 2>/dev/null
  "$SL" rawbench --json --cpu --kind tcp --op read --reads "$READS" --read-size "$READ_SIZE" --read-warmup "$WARMUP" \
    >>"$OUT/tcp.json"
  echo "  run $i: shardlink d1 p50 $(field "$OUT/sl1.json" p50_us) us $(field "$OUT/sl1.json" ops_per_s) reads/s" \
       "$(field "$OUT/sl1.json" cpu_us_per_op) us CPU/read, d$DEPTH $(field "$OUT/slN.json" ops_per_s) reads/s;" \
       "raw QUIC d1 p50 $(field "$OUT/raw-quic.json" p50_us) us $(field "$OUT/raw-quic.json" cpu_us_per_op) us CPU," \
       "d$DEPTH $(field "$OUT/raw-quicN.json" ops_per_s) req/s; TCP p50 $(field "$OUT/tcp.json" p50_us) us;" \
       "load $(cut -d' ' -f1 /proc/loadavg)"
done
head -1 "$OUT/raw-quic.err" | sed 's/^rawbench: /settings: /'

python3 - "$OUT" "$DEPTH" <<'PY'
import json, statistics, sys, os
d, depth = sys.argv[1], sys.argv[2]
def runs(name):
    p = os.path.join(d, name + ".json")
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
paths = [("shardlink QUIC d1", "sl1"), (f"shardlink QUIC d{depth}", "slN"), ("before d1", "before1"),
         (f"before d{depth}", "beforeN"), ("raw Netty QUIC d1", "raw-quic"), (f"raw Netty QUIC d{depth}", "raw-quicN"),
         ("blocking TCP d1", "tcp")]
med = {}
keys = ("p50_us", "p99_us", "ops_per_s", "cpu_us_per_op", "thread_cpu_us_per_op", "alloc_bytes_per_op")
print(f"{'path':<22} {'p50 us':>9} {'p99 us':>9} {'reads/s':>9} {'CPU us':>7} {'thr us':>7} {'B alloc':>8}"
      "   runs (p50 us / reads/s / CPU us)")
for label, name in paths:
    r = runs(name)
    if not r:
        continue
    m = {k: statistics.median(x[k] for x in r) for k in keys}
    med[name] = m
    print(f"{label:<22} {m['p50_us']:>9.1f} {m['p99_us']:>9.1f} {m['ops_per_s']:>9.0f} {m['cpu_us_per_op']:>7.0f} "
          f"{m['thread_cpu_us_per_op']:>7.0f} {m['alloc_bytes_per_op']:>8.0f}   "
          + ", ".join(f"{x['p50_us']:.0f}/{x['ops_per_s']:.0f}/{x['cpu_us_per_op']:.0f}" for x in r))
print("CPU us = process CPU per request (all threads, JIT and GC included); thr us = the Java threads' CPU; "
      "B alloc = heap bytes allocated per request")
r1 = med["sl1"]["p50_us"] / med["raw-quic"]["p50_us"]
r2 = med["slN"]["ops_per_s"] / med["sl1"]["ops_per_s"]
r3 = med["sl1"]["p50_us"] / med["tcp"]["p50_us"]
rc = med["sl1"]["cpu_us_per_op"] / med["raw-quic"]["cpu_us_per_op"]
rr = med["raw-quicN"]["ops_per_s"] / med["raw-quic"]["ops_per_s"]
print(f"ratio shardlink d1 p50 / raw Netty QUIC p50 = {r1:.2f}  (target <= 1.00: {'met' if r1 <= 1.0 else 'MISSED'})")
print(f"ratio shardlink d{depth} reads/s / d1 reads/s = {r2:.2f}  (target >= 10: {'met' if r2 >= 10 else 'MISSED'});"
      f" raw Netty QUIC's own d{depth}/d1 = {rr:.2f}")
print(f"ratio shardlink d1 CPU per read / raw Netty QUIC CPU per request = {rc:.2f}")
print(f"ratio shardlink d1 p50 / blocking TCP p50 = {r3:.1f}")
if "before1" in med:
    print(f"before -> now: d1 p50 {med['before1']['p50_us']:.0f} -> {med['sl1']['p50_us']:.0f} us, d1 CPU/read "
          f"{med['before1']['cpu_us_per_op']:.0f} -> {med['sl1']['cpu_us_per_op']:.0f} us, d{depth} reads/s "
          f"{med['beforeN']['ops_per_s']:.0f} -> {med['slN']['ops_per_s']:.0f}, d1 alloc "
          f"{med['before1']['alloc_bytes_per_op']:.0f} -> {med['sl1']['alloc_bytes_per_op']:.0f} B/read")
paired = [a["p50_us"] / b["p50_us"] for a, b in zip(runs("sl1"), runs("raw-quic"))]
print("per-run shardlink d1 p50 / raw QUIC p50 (adjacent in time): " + ", ".join(f"{x:.2f}" for x in paired)
      + f"; median {statistics.median(paired):.2f}")
PY
