#!/usr/bin/env bash
# bench/rdma-vs-perftest.sh - shardlink over RDMA vs perftest on the same rxe devices, in one VM run:
#   copy:  shardlink shard copy rxea -> rxeb (1 MiB chunks)    vs  ib_write_bw -s 1048576 rxea -> rxeb
#   read:  shardlink blob read p50, 4 KiB                       vs  ib_read_lat -s 4096 (and ib_send_lat -s 4096)
# Run it inside the rxe VM; build on the host first (Maven is far too slow under emulation):
#   bin/shardlink --version && ci/rxe-vm.sh --mem 3072 -- bench/rdma-vs-perftest.sh
# Environment: SIZE (default 32m), REPEAT (3), READS (1000), ITERS (perftest iterations, 1000 for latency,
#   200 for bandwidth), DEV_A/DEV_B (default $SHARDLINK_RXE_A/$SHARDLINK_RXE_B or rxea/rxeb).
# Exits non-zero when shardlink reports no RDMA case (it says why) or a tool fails: never prints fake ratios.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SL=$ROOT/bin/shardlink
DEV_A=${DEV_A:-${SHARDLINK_RXE_A:-rxea}}
DEV_B=${DEV_B:-${SHARDLINK_RXE_B:-rxeb}}
SIZE=${SIZE:-32m}
REPEAT=${REPEAT:-3}
READS=${READS:-1000}
BW_ITERS=${BW_ITERS:-200}
LAT_ITERS=${LAT_ITERS:-1000}
OUT=$(mktemp -d "${TMPDIR:-/tmp}/rdma-vs-perftest.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
die() { echo "rdma-vs-perftest: $*" >&2; exit 1; }

for t in ib_write_bw ib_read_lat ib_send_lat python3; do
  command -v "$t" >/dev/null || die "$t not found (perftest / python3 missing)"
done
[ -d "/sys/class/infiniband/$DEV_A" ] && [ -d "/sys/class/infiniband/$DEV_B" ] \
  || die "RDMA devices $DEV_A and $DEV_B not present (run inside the VM: ci/rxe-vm.sh -- bench/rdma-vs-perftest.sh)"
echo "rdma-vs-perftest: $DEV_A -> $DEV_B, $(uname -r), $(nproc) vCPU(s)"

# perftest: server on DEV_B, client on DEV_A, out-of-band exchange over 127.0.0.1, GID index 0
perf() { # perf NAME PORT TOOL ARGS...: runs TOOL server + client; the client's output in $OUT/NAME.txt
  local name=$1 port=$2 tool=$3; shift 3
  "$tool" -d "$DEV_B" -x 0 -p "$port" "$@" >"$OUT/$name.server.txt" 2>&1 &
  local srv=$!
  local ok=0
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    sleep 1
    if "$tool" -d "$DEV_A" -x 0 -p "$port" "$@" 127.0.0.1 >"$OUT/$name.txt" 2>&1; then ok=1; break; fi
    grep -q "Couldn't connect\|Unable to open\|connect to" "$OUT/$name.txt" || break
  done
  wait "$srv" 2>/dev/null || true
  [ $ok = 1 ] || { cat "$OUT/$name.txt" "$OUT/$name.server.txt" >&2; die "$tool failed"; }
}
# the numbers row that follows perftest's "#bytes" header
perfrow() { awk '/#bytes/ {getline; print; exit}' "$OUT/$1.txt"; }

perf write_bw 18515 ib_write_bw -s 1048576 -n "$BW_ITERS"
# the same with shardlink's copy window (16 x 1 MiB in flight; perftest's default is 128)
perf write_bw_t16 18518 ib_write_bw -s 1048576 -n "$BW_ITERS" -t 16
perf read_lat 18516 ib_read_lat -s 4096 -n "$LAT_ITERS"
perf send_lat 18517 ib_send_lat -s 4096 -n "$LAT_ITERS"
echo "ib_write_bw 1 MiB:  $(perfrow write_bw)"
echo "ib_write_bw -t 16:  $(perfrow write_bw_t16)"
echo "ib_read_lat 4 KiB:  $(perfrow read_lat)"
echo "ib_send_lat 4 KiB:  $(perfrow send_lat)"

# shardlink: two nodes in one JVM, sender on DEV_A, receiver on DEV_B, RDMA only
# A JVM under QEMU's TCG emulation has been seen to die in freshly JIT-compiled code (SIGSEGV in JDK code):
# that is retried once and reported; any other failure is final.
export SHARDLINK_JAVA_OPTS="${SHARDLINK_JAVA_OPTS:--Xmx1g -XX:MaxDirectMemorySize=1g} -XX:ErrorFile=${TMPDIR:-/tmp}/shardlink-hs_err_%p.log"
for attempt in 1 2; do
  SHARDLINK_NO_BUILD=1 "$SL" bench --json --transport rdma --device "$DEV_A" --server-device "$DEV_B" \
    --size "$SIZE" --repeat "$REPEAT" --reads "$READS" --read-size 4k --chunk-size 1m --connect-timeout 120 \
    >"$OUT/shardlink.json" 2>"$OUT/shardlink.err"
  rc=$?
  [ $rc -eq 0 ] && break
  if [ $rc -ge 128 ] && [ $attempt = 1 ]; then
    echo "rdma-vs-perftest: the shardlink JVM crashed (exit $rc; $(grep -m1 -h 'Problematic frame' -A1 "$OUT/shardlink.json" | tail -1)); retrying once" >&2
    continue
  fi
  echo "rdma-vs-perftest: shardlink has no RDMA case here (exit $rc), so no ratios:" >&2
  cat "$OUT/shardlink.err" >&2
  grep -h '^#' "$OUT/shardlink.json" >&2 || true
  exit 1
done
cat "$OUT/shardlink.json"

python3 - "$OUT" <<'PY'
import json, os, sys
d = sys.argv[1]
cases = {(c["transport"], c["op"]): c for c in map(json.loads, filter(str.strip, open(os.path.join(d, "shardlink.json"))))}
if ("rdma", "copy") not in cases or ("rdma", "read") not in cases:
    sys.exit("rdma-vs-perftest: shardlink printed no RDMA copy/read case: " + str(list(cases)))
def row(name):
    lines = open(os.path.join(d, name + ".txt")).read().splitlines()
    for i, l in enumerate(lines):
        if l.strip().startswith("#bytes"):
            return l.split(), lines[i + 1].split()
    sys.exit("rdma-vs-perftest: no result row in " + name)
def bw(name):
    h, v = row(name)
    mib = float(v[3])                # BW average[MB/sec]; perftest's MB is 2^20 bytes
    return mib, mib * 1048576 / 1e6  # -> 10^6 bytes/s, shardlink's unit
bw_mib, bw_mb = bw("write_bw")
bw16_mib, bw16_mb = bw("write_bw_t16")
def typical(name):
    h, v = row(name)
    return float(v[4])               # t_typical[usec] (perftest's median-like figure)
read_lat, send_lat = typical("read_lat"), typical("send_lat")
copy, read = cases[("rdma", "copy")], cases[("rdma", "read")]
r_copy = copy["mb_per_s"] / bw_mb
r_read = read["p50_us"] / read_lat
print(f"copy: shardlink {copy['mb_per_s']:.1f} MB/s vs ib_write_bw {bw_mb:.1f} MB/s ({bw_mib:.1f} MiB/s) "
      f"-> ratio {r_copy:.2f} (target >= 0.80: {'met' if r_copy >= 0.8 else 'MISSED'}); "
      f"vs ib_write_bw -t 16 {bw16_mb:.1f} MB/s -> ratio {copy['mb_per_s'] / bw16_mb:.2f}")
print(f"read: shardlink p50 {read['p50_us']:.1f} us (p99 {read['p99_us']:.1f}) vs ib_read_lat {read_lat:.1f} us "
      f"-> ratio {r_read:.2f} (target <= 2.00: {'met' if r_read <= 2.0 else 'MISSED'}); "
      f"ib_send_lat {send_lat:.1f} us -> ratio {read['p50_us'] / send_lat:.2f}")
PY
