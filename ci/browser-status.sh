#!/usr/bin/env bash
# ci/browser-status.sh - serve's status page in a real browser, and JSON logs, through bin/shardlink:
#   serve --http-port --ingest-limit 4m --log-format json in the background; a small copy and two reads, then a
#   96 MB copy that the ingest limit keeps in flight for >= 22 s; meanwhile ci/status_page_check.py loads
#   http://HTTP/ in headless Chromium (Debian's chromium, driven over the DevTools protocol with
#   python3-websocket) and checks the rendered page: the peer row with its state and transport, a progress bar
#   that moved, plots with data points, no console errors; it saves a screenshot (build-reports/status-page.png;
#   docs/status-page.png in the README is one such). Then: the stored shards equal the sources, serve stops
#   cleanly on SIGTERM, and every line serve, copy and read wrote (stdout and stderr) parses as one JSON object
#   with time, level, logger, message, node and peer. Talks to 127.0.0.1 only.
# usage: ci/browser-status.sh [SCREENSHOT]     Prints "N passed, N failed" at the end.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SL=$ROOT/bin/shardlink
SHOT=${1:-$ROOT/build-reports/status-page.png}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardlink-browser.XXXXXX")
SERVE_PID=
BIG_PID=
passed=0
failed=0
start=$(date +%s)
# Debian's interpreter: python3-websocket is installed for it (a python3 from elsewhere may lack it)
PY=/usr/bin/python3

cleanup() {
  for p in $BIG_PID $SERVE_PID; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null; sleep 2; kill -KILL "$p" 2>/dev/null; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() {
  failed=$((failed + 1)); echo "FAIL $*"
  for f in "$WORK"/*.out "$WORK"/*.err; do [ -s "$f" ] && { echo "--- $f"; tail -20 "$f"; }; done
  echo "$passed passed, $failed failed"
  exit 1
}
TLS=(--tls-dir "$WORK/tls" --tls-name client)
JSON=(--log-format json)

mkdir -p "$(dirname "$SHOT")" "$WORK/store"
"$SL" certs --dir "$WORK/tls" --name server,client >"$WORK/certs.out" 2>"$WORK/certs.err" || fail "certs"
"$SL" serve --listen 127.0.0.1:0 --http-port 0 --dir "$WORK/store" --tls-dir "$WORK/tls" --tls-name server \
  --node-id storage-1 --ingest-limit 4m "${JSON[@]}" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 1 120); do
  grep -q '"event":"serve.ready"' "$WORK/serve.out" 2>/dev/null && break
  kill -0 "$SERVE_PID" 2>/dev/null || fail "serve died"
  sleep 0.5
done
grep -q '"event":"serve.ready"' "$WORK/serve.out" || fail "serve not ready in 60 s"
read -r ADDR HTTP < <($PY -c '
import json, sys
e = {}
for l in open(sys.argv[1]):
    o = json.loads(l); e[o.get("event")] = o
print(e["serve.listening"]["listen"], e["serve.http"]["http"])' "$WORK/serve.out") || fail "serve's JSON lines"
ok "serve --log-format json: QUIC $ADDR, HTTP $HTTP"

head -c 4000000 /dev/urandom >"$WORK/small.bin"
head -c 96000000 /dev/urandom >"$WORK/big.bin"
"$SL" copy "$WORK/small.bin" --to "$ADDR" --shard 1 "${TLS[@]}" "${JSON[@]}" >"$WORK/copy1.out" 2>"$WORK/copy1.err" \
  || fail "small copy"
for i in 1 2; do
  "$SL" read --from "$ADDR" --volume 0 --needle 1 --length 4000000 --out "$WORK/read$i.bin" "${TLS[@]}" "${JSON[@]}" \
    >"$WORK/read$i.out" 2>"$WORK/read$i.err" || fail "read $i"
done
cmp -s "$WORK/read1.bin" "$WORK/small.bin" || fail "read: bytes differ"
ok "small copy + 2 reads (4 MB each, verified)"
# at most 4 MiB/s into the store: in flight for >= 22 s, long enough for the browser to watch it move
"$SL" copy "$WORK/big.bin" --to "$ADDR" --shard 2 "${TLS[@]}" "${JSON[@]}" >"$WORK/copy2.out" 2>"$WORK/copy2.err" &
BIG_PID=$!

# the page is loaded while the big copy runs: wait until status.json lists it with bytes delivered
$PY - "$HTTP" <<'PY' || fail "the 96 MB copy never showed in /status.json"
import json, sys, time, urllib.request
deadline = time.time() + 90  # the copy's JVM starts slowly on a busy machine
copies = None
while time.time() < deadline:
    s = json.load(urllib.request.urlopen("http://" + sys.argv[1] + "/status.json", timeout=10))
    copies = s["copies"]
    if any(c["shard"] == 2 and 0 < c["bytes_done"] < c["total_bytes"] for c in copies):
        sys.exit(0)
    time.sleep(0.3)
sys.exit(f"copies in flight: {copies}")
PY
ok "96 MB copy in flight, listed in /status.json"

if $PY "$ROOT/ci/status_page_check.py" "http://$HTTP/" --screenshot "$SHOT" --peer-prefix copy- --transport QUIC \
  --timeout 60 >"$WORK/browser.log" 2>&1; then
  grep -E '^(ok|FAIL|note)' "$WORK/browser.log" | sed 's/^/  /'
  ok "headless Chromium: status page rendered and checked, screenshot $SHOT"
else
  cat "$WORK/browser.log"
  fail "status page in Chromium"
fi

wait "$BIG_PID" || fail "96 MB copy exited non-zero"
BIG_PID=
cmp -s "$WORK/big.bin" "$WORK/store/shard-2" && cmp -s "$WORK/small.bin" "$WORK/store/shard-1" \
  || fail "stored shards differ from their sources"
ok "both copies stored intact: $(tr -d '\n' <"$WORK/copy2.out" | cut -c1-110)"

kill -TERM "$SERVE_PID"
if wait "$SERVE_PID"; then rc=0; else rc=$?; fi
SERVE_PID=
[ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"

$PY - "$WORK" <<'PY' || fail "JSON log lines"
import glob, json, os, sys
work = sys.argv[1]
need = ["time", "level", "logger", "message", "node", "peer"]
files = [os.path.join(work, f) for f in ("serve.out", "serve.err")] + sorted(
    glob.glob(os.path.join(work, "copy*.err")) + glob.glob(os.path.join(work, "read*.err")))
n = 0
events = set()
for f in files:
    for i, line in enumerate(open(f), 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            sys.exit(f"{f}:{i}: not JSON ({e}): {line.rstrip()}")
        assert isinstance(o, dict), f"{f}:{i}: not an object"
        missing = [k for k in need if k not in o]
        assert not missing, f"{f}:{i}: lacks {missing}: {line.rstrip()}"
        assert o["level"] in ("ERROR", "WARN", "INFO", "DEBUG", "TRACE"), line
        events.add(o.get("event"))
        n += 1
stored = [json.loads(l) for l in open(os.path.join(work, "serve.out")) if '"copy.stored"' in l]
assert {o["shard"] for o in stored} == {1, 2}, stored
assert all(o["peer"].startswith("copy-") and o["transport"] == "QUIC" and o["node"] == "storage-1" for o in stored), stored
assert {"serve.ready", "serve.stopped", "copy.progress"} <= events, events
print(f"{n} lines in {len(files)} files, events {sorted(e for e in events if e)}")
PY
ok "every log line of serve, copy and read is one JSON object ($(wc -l <"$WORK/serve.out") serve lines)"

echo "browser-status: $(($(date +%s) - start))s"
echo "$passed passed, $failed failed"
