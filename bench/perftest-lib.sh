# bench/perftest-lib.sh - sourced by the rxe-VM benches: runs perftest tools between DEV_B (server) and DEV_A
# (client), out-of-band exchange over 127.0.0.1, GID index 0. Needs DEV_A, DEV_B, OUT (a directory) and die().
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
    [ $run = 3 ] || echo "perftest: $tool $* failed (run $run: $(grep -m1 -i "couldn't\|fail\|error" \
      "$OUT/$name.txt")); running it again" >&2
    port=$((port + 100))
  done
  [ $ok = 1 ] || { cat "$OUT/$name.txt" "$OUT/$name.server.txt" >&2; die "$tool failed"; }
}
# the numbers row that follows perftest's "#bytes" header
perfrow() { awk '/#bytes/ {getline; print; exit}' "$OUT/$1.txt"; }
