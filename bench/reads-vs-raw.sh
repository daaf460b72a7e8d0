#!/usr/bin/env bash
# bench/reads-vs-raw.sh - shardlink's QUIC blob read vs a raw Netty QUIC request/response (a fresh stream per
# request, shardlink's loopback settings: same mutual TLS 1.3, UDP payload, flow-control windows, stream limit)
# vs a blocking TCP request/response, all over 127.0.0.1, one JVM each, interleaved in one run.
#
#   bench/reads-vs-raw.sh                    READS=10000, READ_SIZE=4k, DEPTH=64, 3 runs of each (interleaved)
#   RUNS=5 READS=20000 bench/reads-vs-raw.sh
#
# Per run: shardlink `bench --transport quic --read-depth 1` (latency) and `--read-depth $DEPTH` (throughput),
# raw Netty QUIC and TCP at one request in flight; each with 1,000 unmeasured warm-up requests. Prints the
# median of the runs per path and the issue-12 ratios:
#   shardlink depth-1 p50 / raw Netty QUIC p50   (target <= 1.0)
#   shardlink depth-DEPTH reads/s / depth-1 reads/s   (target >= 10)
# Exit 0 when every run succeeded (a missed target is reported, not an error).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SL=$ROOT/bin/shardlink
READS=${READS:-10000}
READ_SIZE=${READ_SIZE:-4k}
DEPTH=${DEPTH:-64}
RUNS=${RUNS:-3}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/reads-vs-raw.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

"$SL" --version >/dev/null # builds the jar if needed, before anything is timed
echo "reads-vs-raw: $READS reads of $READ_SIZE over 127.0.0.1, $RUNS runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
field() { tail -1 "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }
for i in $(seq 1 "$RUNS"); do
  # --size: the blob the reads come from (one small copy first puts it in place)
  "$SL" bench --json --transport quic --size 4m --repeat 1 --reads "$READS" --read-size "$READ_SIZE" --read-depth 1 \
    | grep '"op":"read"' >>"$OUT/sl1.json"
  "$SL" bench --json --transport quic --size 4m --repeat 1 --reads "$READS" --read-size "$READ_SIZE" \
    --read-depth "$DEPTH" | grep '"op":"read"' >>"$OUT/slN.json"
  "$SL" rawbench --json --kind quic --op read --reads "$READS" --read-size "$READ_SIZE" >>"$OUT/raw-quic.json" \
    2>"$OUT/raw-quic.err"
  "$SL" rawbench --json --kind tcp --op read --reads "$READS" --read-size "$READ_SIZE" >>"$OUT/tcp.json"
  echo "  run $i: shardlink d1 p50 $(field "$OUT/sl1.json" p50_us) us $(field "$OUT/sl1.json" ops_per_s) reads/s," \
       "d$DEPTH $(field "$OUT/slN.json" ops_per_s) reads/s (p50 $(field "$OUT/slN.json" p50_us) us);" \
       "raw QUIC p50 $(field "$OUT/raw-quic.json" p50_us) us; TCP p50 $(field "$OUT/tcp.json" p50_us) us"
done
head -1 "$OUT/raw-quic.err" | sed 's/^rawbench: /settings: /'

python3 - "$OUT" "$DEPTH" <<'PY'
import json, statistics, sys, os
d, depth = sys.argv[1], sys.argv[2]
def runs(name):
    return [json.loads(l) for l in open(os.path.join(d, name + ".json")) if l.strip()]
paths = [("shardlink QUIC d1", "sl1"), (f"shardlink QUIC d{depth}", "slN"), ("raw Netty QUIC d1", "raw-quic"),
         ("blocking TCP d1", "tcp")]
med = {}
print(f"{'path':<20} {'p50 us':>9} {'p99 us':>9} {'reads/s':>10}   runs (p50 us / reads/s)")
for label, name in paths:
    r = runs(name)
    m = {k: statistics.median(x[k] for x in r) for k in ("p50_us", "p99_us", "ops_per_s")}
    med[name] = m
    print(f"{label:<20} {m['p50_us']:>9.1f} {m['p99_us']:>9.1f} {m['ops_per_s']:>10.0f}   "
          + ", ".join(f"{x['p50_us']:.0f}/{x['ops_per_s']:.0f}" for x in r))
r1 = med["sl1"]["p50_us"] / med["raw-quic"]["p50_us"]
r2 = med["slN"]["ops_per_s"] / med["sl1"]["ops_per_s"]
r3 = med["sl1"]["p50_us"] / med["tcp"]["p50_us"]
print(f"ratio shardlink d1 p50 / raw Netty QUIC p50 = {r1:.2f}  (target <= 1.00: {'met' if r1 <= 1.0 else 'MISSED'})")
print(f"ratio shardlink d{depth} reads/s / d1 reads/s = {r2:.2f}  (target >= 10: {'met' if r2 >= 10 else 'MISSED'})")
print(f"ratio shardlink d1 p50 / blocking TCP p50 = {r3:.1f}")
paired = [a["p50_us"] / b["p50_us"] for a, b in zip(runs("sl1"), runs("raw-quic"))]
print("per-run shardlink d1 p50 / raw QUIC p50 (adjacent in time): " + ", ".join(f"{x:.2f}" for x in paired)
      + f"; median {statistics.median(paired):.2f}")
PY
