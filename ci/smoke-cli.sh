#!/usr/bin/env bash
# ci/smoke-cli.sh - smoke test of every bin/shardlink subcommand, through the launcher, on this host:
#   probe; demo --size 32m; certs; bench --json (small, each line parsed by python3); serve in the
#   background + copy + read from a second process + /health and /metrics over HTTP (promtool check metrics
#   must not complain); clean stop (SIGTERM, exit 0); SeaweedFS: volumes DIR, serve --seaweedfs + read --fid
#   against the shared fixtures. Exits non-zero on the first failure. Builds the jar first if needed.
# Prints "N passed, N failed" at the end.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SL=$ROOT/bin/shardlink
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardlink-smoke.XXXXXX")
SERVE_PID=
passed=0
failed=0
start=$(date +%s)

cleanup() {
  if [ -n "$SERVE_PID" ] && kill -0 "$SERVE_PID" 2>/dev/null; then
    kill -TERM "$SERVE_PID" 2>/dev/null; sleep 2; kill -KILL "$SERVE_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() {
  failed=$((failed + 1)); echo "FAIL $*"
  echo "$passed passed, $failed failed"
  exit 1
}
# run NAME CMD...: runs CMD, keeps its output in $WORK/NAME.out, fails the smoke on a non-zero exit
run() {
  local name=$1; shift
  if "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"; then return 0; fi
  echo "--- $name: $* exited non-zero; stdout:"; cat "$WORK/$name.out"; echo "--- stderr:"; cat "$WORK/$name.err"
  fail "$name"
}
expect() { # expect NAME PATTERN: $WORK/NAME.out matches the grep -E pattern
  grep -qE "$2" "$WORK/$1.out" || { echo "--- $1 output:"; cat "$WORK/$1.out" "$WORK/$1.err"; fail "$1: no /$2/"; }
}

# 0. build (once) and the usage error path
"$SL" --version >"$WORK/version.out" 2>"$WORK/version.err" || { cat "$WORK/version.err"; fail "build/--version"; }
ok "bin/shardlink --version: $(head -1 "$WORK/version.out")"
if "$SL" demo --no-such-flag >"$WORK/usage.out" 2>"$WORK/usage.err"; then fail "unknown flag exited 0"; fi
[ "$(wc -l <"$WORK/usage.err")" -eq 1 ] || { cat "$WORK/usage.err"; fail "unknown flag: not one line"; }
ok "unknown flag: one line, non-zero exit"

# 1. probe
run probe "$SL" probe
expect probe '^RDMA: (usable|NOT usable) here'
expect probe '^memlock limit: '
ok "probe: $(grep '^RDMA:' "$WORK/probe.out" | cut -c1-100)"

# 2. demo
run demo "$SL" demo --size 32m
expect demo 'verified \(CRC32C'
expect demo 'reads: 1000 x 4.0 KiB .* all verified; latency p50 .* p99 '
expect demo '^demo OK'
ok "demo: $(grep '^copy:' "$WORK/demo.out")"

# 3. bench --json
run bench "$SL" bench --json --size 8m --repeat 2 --reads 300
python3 - "$WORK/bench.out" <<'PY' || fail "bench --json lines"
import json, sys
want = ["transport", "op", "size", "count", "bytes", "seconds", "mb_per_s", "p50_us", "p99_us", "p999_us", "depth", "ops_per_s"]
lines = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
assert lines, "no output"
ops = set()
for l in lines:
    o = json.loads(l)
    assert list(o) == want, f"fields {list(o)}"
    assert o["bytes"] == o["size"] * o["count"], l
    assert o["mb_per_s"] > 0 and o["p50_us"] <= o["p99_us"] <= o["p999_us"], l
    ops.add((o["transport"], o["op"]))
assert ("quic", "copy") in ops and ("quic", "read") in ops, ops
PY
ok "bench --json: $(wc -l <"$WORK/bench.out") case(s) parsed"

# 4. certs + serve + copy + read (two processes) + HTTP
run certs "$SL" certs --dir "$WORK/tls" --name server,client
ok "certs: CA + server + client"
mkdir -p "$WORK/store"
"$SL" serve --listen 127.0.0.1:0 --http-port 0 --dir "$WORK/store" --tls-dir "$WORK/tls" --tls-name server \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 120); do
  grep -q 'ready$' "$WORK/serve.out" 2>/dev/null && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.out" "$WORK/serve.err"; fail "serve died"; }
  sleep 0.5
done
grep -q 'ready$' "$WORK/serve.out" || { cat "$WORK/serve.out" "$WORK/serve.err"; fail "serve not ready in 60 s"; }
ADDR=$(sed -n 's/.* listening on \([^ ]*\) .*/\1/p' "$WORK/serve.out")
HTTP=$(sed -n 's/.* http on \([^ ]*\) .*/\1/p' "$WORK/serve.out")
ok "serve: QUIC $ADDR, HTTP $HTTP"

head -c 3000000 /dev/urandom >"$WORK/shard.bin"
run copy "$SL" copy "$WORK/shard.bin" --to "$ADDR" --shard 77 --tls-dir "$WORK/tls" --tls-name client
expect copy 'as shard 77: 3000000 bytes in .* MB/s over (QUIC|RDMA)'
cmp -s "$WORK/shard.bin" "$WORK/store/shard-77" || fail "copy: stored shard differs"
ok "copy: $(cut -c1-120 "$WORK/copy.out")"

run read "$SL" read --from "$ADDR" --volume 0 --needle 77 --offset 4096 --length 65536 --out "$WORK/needle.bin" \
  --tls-dir "$WORK/tls" --tls-name client
cmp -s "$WORK/needle.bin" <(tail -c +4097 "$WORK/shard.bin" | head -c 65536) || fail "read: bytes differ"
ok "read: $(cut -c1-120 "$WORK/read.out")"

python3 - "$HTTP" <<'PY' || fail "/health or /metrics"
import sys, urllib.request
base = "http://" + sys.argv[1]
h = urllib.request.urlopen(base + "/health", timeout=10)
body = h.read().decode()
assert h.status == 200 and body.startswith("ok\n"), body
m = urllib.request.urlopen(base + "/metrics", timeout=10)
text = m.read().decode()
assert m.status == 200, m.status
samples = {}
for line in text.splitlines():
    if line and not line.startswith("#"):
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
recv = sum(v for k, v in samples.items() if k.startswith("shardlink_bytes_total{") and 'direction="received"' in k)
assert recv >= 3000000, recv
assert samples['shardlink_completions_total{status="ok"}'] >= 2, samples
assert 'shardlink_read_latency_seconds_bucket{le="+Inf"}' in samples
PY
ok "/health 200 ok, /metrics parsed"

# /metrics passes promtool's lint: any complaint fails (issue 10; Debian package prometheus, from ci/install-deps.sh)
command -v promtool >/dev/null 2>&1 || fail "promtool not found: install the Debian package prometheus (ci/install-deps.sh)"
python3 -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=10).read().decode())' \
  "$HTTP" >"$WORK/metrics.txt" || fail "/metrics fetch for promtool"
if ! promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 || [ -s "$WORK/promtool.out" ]; then
  cat "$WORK/promtool.out"; fail "promtool check metrics complained about /metrics"
fi
ok "promtool check metrics: no complaint ($(grep -c '^# TYPE' "$WORK/metrics.txt") families)"

kill -TERM "$SERVE_PID"
if wait "$SERVE_PID"; then rc=0; else rc=$?; fi
SERVE_PID=
[ "$rc" -eq 0 ] || { cat "$WORK/serve.out" "$WORK/serve.err"; fail "serve exited $rc on SIGTERM"; }
grep -q 'shardlink serve: stopped' "$WORK/serve.out" || fail "serve: no clean stop"
ok "serve: SIGTERM -> clean stop, exit 0"

# 5. SeaweedFS volumes: volumes DIR, then serve --seaweedfs + read --fid from a second process, checked against an
#    independent parse (python3) of the shared fixtures; a flipped byte -> CHECKSUM_MISMATCH, a wrong cookie -> NOT_FOUND
FIX=${SHARDLINK_SEAWEED_FIXTURES:-/work/shared/fixtures/seaweedfs}
[ -f "$FIX/ec_1.dat" ] || fail "seaweedfs: no fixtures in $FIX (set SHARDLINK_SEAWEED_FIXTURES)"
SW=$WORK/sw
mkdir -p "$SW" "$WORK/sw-want"
cp "$FIX/healthy_volume.dat" "$SW/1.dat"; cp "$FIX/healthy_volume.idx" "$SW/1.idx"
cp "$FIX/ec_1.dat" "$SW/pics_2.dat"; cp "$FIX/ec_1.idx" "$SW/pics_2.idx"
cp "$FIX/ec_1.dat" "$SW/damaged_12.dat"; cp "$FIX/ec_1.idx" "$SW/damaged_12.idx"
chmod u+w "$SW"/*
python3 - "$SW" "$WORK/sw-want" <<'PY' || fail "seaweedfs: fixture parse"
import struct, sys, os
d, want = sys.argv[1], sys.argv[2]
def fid(v, i, c):
    h = "%x" % i if i else ""
    return "%d,%s%08x" % (v, ("0" + h) if len(h) % 2 else h, c)
picks = {}
for base, vid in (("1", 1), ("pics_2", 2), ("damaged_12", 12)):
    dat = open(os.path.join(d, base + ".dat"), "rb").read()
    idx = open(os.path.join(d, base + ".idx"), "rb").read()
    live = {}
    for k in range(0, len(idx), 16):
        i, off, size = struct.unpack(">QIi", idx[k:k + 16])
        if off == 0 or size <= 0: live.pop(i, None)
        else: live[i] = off * 8
    for i, pos in sorted(live.items(), key=lambda e: e[1]):
        cookie, _, size, dsize = struct.unpack(">IQII", dat[pos:pos + 20])
        data = dat[pos + 20:pos + 20 + dsize]
        f = fid(vid, i, cookie)
        open(os.path.join(want, f + ".bin"), "wb").write(data)
        flags = dat[pos + 20 + dsize]
        if vid == 1 and "small" not in picks: picks["small"] = f
        if vid == 2 and (flags & 1) and "gzip" not in picks: picks["gzip"] = f
        if vid == 2 and len(data) > picks.get("bigsize", 0): picks["big"], picks["bigsize"] = f, len(data)
        if vid == 12 and "bad" not in picks:
            picks["bad"] = f
            with open(os.path.join(d, base + ".dat"), "r+b") as fh:   # flip one data byte of this needle
                fh.seek(pos + 20 + dsize // 2); b = fh.read(1); fh.seek(pos + 20 + dsize // 2); fh.write(bytes([b[0] ^ 0x10]))
with open(os.path.join(want, "picks.txt"), "w") as out:
    for k in ("small", "gzip", "big", "bad"):
        out.write("%s %s\n" % (k, picks[k]))
PY
pick() { sed -n "s/^$1 //p" "$WORK/sw-want/picks.txt"; }
if "$SL" volumes "$SW" >"$WORK/volumes.out" 2>"$WORK/volumes.err"; then fail "volumes: exit 0 with a damaged needle"; fi
expect volumes '^3 volume\(s\), 603 live needle\(s\), 1 would be refused$'
expect volumes "^  $(pick bad) .*REFUSED: .*stored checksum 0x"
expect volumes "^  $(pick gzip) .*ok \\(gzip"
ok "volumes: 3 volumes, 603 needles listed, the flipped one REFUSED, exit 1"

"$SL" serve --listen 127.0.0.1:0 --seaweedfs "$SW" --tls-dir "$WORK/tls" --tls-name server \
  >"$WORK/swserve.out" 2>"$WORK/swserve.err" &
SERVE_PID=$!
for _ in $(seq 1 120); do
  grep -q 'ready$' "$WORK/swserve.out" 2>/dev/null && break
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/swserve.out" "$WORK/swserve.err"; fail "serve --seaweedfs died"; }
  sleep 0.5
done
grep -q 'ready$' "$WORK/swserve.out" || { cat "$WORK/swserve.out" "$WORK/swserve.err"; fail "serve --seaweedfs not ready"; }
grep -q 'serving 3 SeaweedFS volume(s), 603 live needle(s)' "$WORK/swserve.out" || { cat "$WORK/swserve.out"; fail "serve --seaweedfs: volume count"; }
SWADDR=$(sed -n 's/.* listening on \([^ ]*\) .*/\1/p' "$WORK/swserve.out")
for k in small gzip big; do
  f=$(pick $k)
  run "swread-$k" "$SL" read --from "$SWADDR" --fid "$f" --out "$WORK/sw-$k.bin" --tls-dir "$WORK/tls" --tls-name client
  cmp -s "$WORK/sw-$k.bin" "$WORK/sw-want/$f.bin" || fail "read --fid $f ($k): bytes differ from the parse"
done
expect swread-gzip 'flags 0x.. \(gzip'
ok "serve --seaweedfs + read --fid: $(cut -c1-110 "$WORK/swread-big.out")"
f=$(pick small); wrong="${f%????????}$(printf '%08x' $(( (0x${f: -8} + 1) & 0xffffffff )))"
if "$SL" read --from "$SWADDR" --fid "$wrong" --tls-dir "$WORK/tls" --tls-name client >"$WORK/swwrong.out" 2>"$WORK/swwrong.err"; then
  fail "read --fid with a wrong cookie exited 0"
fi
[ "$(wc -l <"$WORK/swwrong.err")" -eq 1 ] && grep -q 'NOT_FOUND' "$WORK/swwrong.err" || { cat "$WORK/swwrong.err"; fail "wrong cookie: not one NOT_FOUND line"; }
if "$SL" read --from "$SWADDR" --fid "$(pick bad)" --out "$WORK/sw-bad.bin" --tls-dir "$WORK/tls" --tls-name client >"$WORK/swbad.out" 2>"$WORK/swbad.err"; then
  fail "read --fid of the flipped needle exited 0"
fi
[ "$(wc -l <"$WORK/swbad.err")" -eq 1 ] && grep -q 'CHECKSUM_MISMATCH' "$WORK/swbad.err" || { cat "$WORK/swbad.err"; fail "flipped needle: not one CHECKSUM_MISMATCH line"; }
[ ! -e "$WORK/sw-bad.bin" ] || fail "flipped needle: an --out file was left"
ok "read --fid: wrong cookie -> NOT_FOUND, flipped byte -> CHECKSUM_MISMATCH (one line, exit 1 each)"
kill -TERM "$SERVE_PID"
if wait "$SERVE_PID"; then rc=0; else rc=$?; fi
SERVE_PID=
[ "$rc" -eq 0 ] || { cat "$WORK/swserve.out" "$WORK/swserve.err"; fail "serve --seaweedfs exited $rc on SIGTERM"; }
ok "serve --seaweedfs: SIGTERM -> clean stop, exit 0"

echo "smoke-cli: $(($(date +%s) - start))s"
echo "$passed passed, $failed failed"
