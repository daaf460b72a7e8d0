#!/usr/bin/env bash
# bench/quic-vs-raw.sh - shardlink's QUIC shard copy vs a raw Netty QUIC transfer with the same settings
# (same UDP payload, flow-control windows, stream limit, socket buffers, mutual TLS, one event-loop thread
# per side) vs plain TCP (blocking java.nio), all one way over 127.0.0.1 in one process each.
#
#   bench/quic-vs-raw.sh                 SIZE=256m, 3 runs of each (interleaved), 3 measured copies per run
#   SIZE=64m RUNS=5 REPEAT=2 bench/quic-vs-raw.sh
#
# Each run is a fresh JVM with one unmeasured warm-up transfer; a run's MB/s is its measured bytes over its
# measured time. Prints the median of the runs for each path and the ratios. Target: shardlink QUIC >= 0.9 x
# raw Netty QUIC. Exit 0 when every run succeeded (a missed target is reported, not an error).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SL=$ROOT/bin/shardlink
SIZE=${SIZE:-256m}
RUNS=${RUNS:-3}
REPEAT=${REPEAT:-3}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/quic-vs-raw.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

"$SL" --version >/dev/null # builds the jar if needed, before anything is timed
echo "quic-vs-raw: $SIZE one way over 127.0.0.1, $RUNS runs x $REPEAT copies, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$RUNS"); do
  "$SL" bench --json --transport quic --size "$SIZE" --repeat "$REPEAT" --reads 0 >>"$OUT/shardlink.json"
  "$SL" rawbench --json --kind quic --size "$SIZE" --repeat "$REPEAT" >>"$OUT/raw-quic.json" 2>"$OUT/raw-quic.err"
  "$SL" rawbench --json --kind tcp --size "$SIZE" --repeat "$REPEAT" >>"$OUT/tcp.json"
  echo "  run $i: shardlink $(tail -1 "$OUT/shardlink.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])') MB/s," \
       "raw Netty QUIC $(tail -1 "$OUT/raw-quic.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])') MB/s," \
       "TCP $(tail -1 "$OUT/tcp.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mb_per_s"])') MB/s"
done
head -1 "$OUT/raw-quic.err" | sed 's/^rawbench: /settings: /'

python3 - "$OUT" <<'PY'
import json, statistics, sys, os
d = sys.argv[1]
def runs(name):
    return [json.loads(l)["mb_per_s"] for l in open(os.path.join(d, name + ".json")) if l.strip()]
sl, raw, tcp = runs("shardlink"), runs("raw-quic"), runs("tcp")
m = {k: statistics.median(v) for k, v in (("shardlink QUIC", sl), ("raw Netty QUIC", raw), ("plain TCP", tcp))}
print(f"{'path':<16} {'median MB/s':>12}   runs")
for k, v in (("shardlink QUIC", sl), ("raw Netty QUIC", raw), ("plain TCP", tcp)):
    print(f"{k:<16} {m[k]:>12.1f}   " + ", ".join(f"{x:.1f}" for x in v))
r1 = m["shardlink QUIC"] / m["raw Netty QUIC"]
r2 = m["shardlink QUIC"] / m["plain TCP"]
r3 = m["raw Netty QUIC"] / m["plain TCP"]
print(f"ratio shardlink QUIC / raw Netty QUIC = {r1:.2f}  (target >= 0.90: {'met' if r1 >= 0.9 else 'MISSED'})")
print(f"ratio shardlink QUIC / plain TCP      = {r2:.2f}")
print(f"ratio raw Netty QUIC / plain TCP      = {r3:.2f}")
paired = [a / b for a, b in zip(sl, raw)]
print("per-run shardlink/raw (adjacent in time, so less exposed to load swings): "
      + ", ".join(f"{x:.2f}" for x in paired) + f"; median {statistics.median(paired):.2f}")
PY
