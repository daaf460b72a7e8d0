#!/usr/bin/env bash
# What runs INSIDE each of the two guests of ci/rxe-pair.sh (see ci/pair-test.sh, which prepares WORK
# on the host and starts it): cross-host RoCE between two kernels, driven by the CLI as an operator would.
#
#   ci/pair-stage.sh WORK      (SHARDLINK_VM_ROLE=a|b and the link addresses come from rxe-pair.sh)
#
# b: `ib_write_bw` server, then `shardlink serve` on its plain0 address (HTTP /metrics there too);
#    once a says it is done, it checks what it stored and how its copies ended, and stops serve cleanly.
# a: 1. `ib_write_bw` across (the same-run reference), then `shardlink bench --connect` to b over RDMA:
#       a 16 MiB shard copy and 1,000 verified 4 KiB reads; the CLI's JSON and b's /metrics say RDMA.
#    2. `shardlink copy` of 48 MiB (transport auto); at its first progress line over RDMA it takes the RoCE link down
#       (ip link set roce0 down): the copy fails over to QUIC on plain0 and completes; b's /metrics
#       count every byte exactly once (RDMA + QUIC received == size) and b's stored file equals it.
#    3. with roce0 still down, a 24 MiB copy over QUIC; mid-copy a takes plain0 down as well: a's copy
#       must fail with a one-line error within DOWN_BOUND s, b's serve must report the shard aborted
#       within DOWN_BOUND s of the cut, and b must hold no shard-3 (nor shard-3.part).
#    4. plain0 and roce0 come back up: once the rxe port is ACTIVE again, a 24 MiB copy with
#       --transport rdma must go over RDMA (b's /metrics: all of it RDMA, none QUIC; b's file equal).
#    Then a tells b (socat over plain0) when it cut the links.
# Each guest writes JUnit XML to WORK/ROLE.xml; a failed check never stops the other checks of its role.
set -uo pipefail
cd "$(dirname "$0")/.."
WORK=${1:?usage: ci/pair-stage.sh WORK}
ROLE=${SHARDLINK_VM_ROLE:?not in a guest of ci/rxe-pair.sh}
DEV=${SHARDLINK_RXE_DEVICE:?}
PEER=${SHARDLINK_PEER_ADDR:?}
LOCAL=${SHARDLINK_LOCAL_ADDR:?}
DOWN_BOUND=${SHARDLINK_PAIR_DOWN_BOUND:-120} # s: QUIC idle timeout (60 s) + slack for emulation
QUIC_PORT=7400
HTTP_PORT=7401
PERF_PORT=18515 # ib_write_bw's own (IPv4-only) out-of-band port, relayed over plain0 by socat
RELAY_PORT=18516
MARKER_PORT=7402 # a's last word to b (when it cut plain0), over plain0 once it is back up
SHM=/dev/shm/pair
STORE=$SHM/store
XML=$WORK/$ROLE.xml
mkdir -p "$SHM" "$STORE"

# The JVM under emulation: see vm-stage.sh for -UseSHA. Small heaps: the guest has 2 GiB and one vCPU.
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }-XX:-UseSHA"
export SHARDLINK_NO_BUILD=1
# ACK timeout 18 (~1.1 s, x7 tries) instead of 14 (~67 ms): a guest's vCPU under emulation, on a 2-core host
# shared with builds, can stall for longer than 7 x 67 ms, and the queue pair died of "retry exceeded" mid-run.
# java.io.tmpdir in the guest's tmpfs: Netty unpacks its QUIC native library there, and /tmp is 9p.
export SHARDLINK_JAVA_OPTS="-Xmx256m -XX:MaxDirectMemorySize=512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dshardlink.rdma.qpTimeout=18 -Djava.io.tmpdir=$SHM"
SL=(bin/shardlink)
TLS=(--tls-dir "$WORK/tls")
CONNECT=(--connect-timeout 60) # QUIC + TLS + RDMA bring-up under emulation

cases=()
passed=0
failed=0
t0=$EPOCHREALTIME
now() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "pair-$ROLE [$(now)s]: $*"; }
xml_esc() { local s=${1//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\"/&quot;}; printf '%s' "$s"; }
pass() { passed=$((passed + 1)); say "ok   $1${2:+: $2}"; cases+=("<testcase classname=\"pair-$ROLE\" name=\"$(xml_esc "$1")\"/>"); }
fail() {
  failed=$((failed + 1)); say "FAIL $1: $2"
  cases+=("<testcase classname=\"pair-$ROLE\" name=\"$(xml_esc "$1")\"><failure message=\"$(xml_esc "$2")\"/></testcase>")
}
write_xml() {
  { printf '<testsuite name="pair-%s" tests="%d" failures="%d">\n' "$ROLE" $((passed + failed)) "$failed"
    printf '%s\n' "${cases[@]}"
    echo '</testsuite>'; } >"$XML"
}
bg_pids=()
finish() {
  local p
  for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
  write_xml
  say "$passed passed, $failed failed"
}
trap finish EXIT

url() { echo "http://[${1/\%/%25}]:$HTTP_PORT$2"; } # curl wants the scope's % escaped
# metric NAME{LABELS} from a /metrics text in $1 (0 when absent)
metric() { awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' <<<"$1"; }
peer_metrics() { curl -g -sS --max-time 20 "$(url "$PEER" /metrics)"; }
B_RDMA_IN='shardlink_bytes_total{transport="rdma",direction="received"}'
B_QUIC_IN='shardlink_bytes_total{transport="quic",direction="received"}'
B_RDMA_OUT='shardlink_bytes_total{transport="rdma",direction="sent"}'
B_QUIC_OUT='shardlink_bytes_total{transport="quic",direction="sent"}'
OPS_RDMA_OUT='shardlink_operations_total{transport="rdma",direction="sent"}'

# Waits for a line matching the ERE $2 in file $1, at most $3 seconds, and no longer than process $4 (if
# given) lives; prints the line.
await_line() {
  local f=$1 re=$2 limit=$3 pid=${4:-} start=$SECONDS line alive=1
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || alive=
    if [ -f "$f" ]; then
      while IFS= read -r line; do
        [[ $line =~ $re ]] && { echo "$line"; return 0; }
      done <"$f"
    fi
    [ -n "$alive" ] || return 1
    sleep 0.2
  done
  return 1
}

run_b() {
  # --- the perftest reference: server side (its OOB channel is IPv4: relay it over plain0) ---
  socat "TCP6-LISTEN:$RELAY_PORT,bind=[$LOCAL],reuseaddr,fork" "TCP4:127.0.0.1:$PERF_PORT" &
  bg_pids+=($!)
  if timeout 300 ib_write_bw -d "$DEV" -x 0 -s 1048576 -n 64 -F -p "$PERF_PORT" >"$SHM/ib_write_bw.out" 2>&1; then
    pass "ib_write_bw server across the RoCE link" "$(grep -E '^ *1048576 ' "$SHM/ib_write_bw.out" | tr -s ' ')"
  else
    fail "ib_write_bw server across the RoCE link" "exit $?: $(grep -v -e '^ *-*$' "$SHM/ib_write_bw.out" | tail -8 | tr '\n' ' ')"
  fi

  # --- serve, until a's last shard (99) arrives ---
  say "starting serve on [$LOCAL]:$QUIC_PORT"
  ( "${SL[@]}" serve --listen "[$LOCAL]:$QUIC_PORT" --http-host "$LOCAL" --http-port "$HTTP_PORT" --dir "$STORE" \
      --device "$DEV" "${TLS[@]}" --tls-name server "${CONNECT[@]}" --node-id serve-b 2>&1 \
    | while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; echo "serve| $l" >&2; done >"$SHM/serve.log" ) &
  local serve_sub=$!
  local serve_pid=
  if await_line "$SHM/serve.log" 'shardlink serve: ready$' 300 "$serve_sub" >/dev/null; then
    serve_pid=$(pgrep -f -- "--node-id serve-b" | head -1)
    pass "serve ready on plain0" "$(grep -o 'RDMA available.*' "$SHM/serve.log" | head -1)"
  else
    fail "serve ready on plain0" "no 'ready' in 300 s: $(tail -5 "$SHM/serve.log" | tr '\n' ' ')"
    return
  fi
  if ! grep -q 'shardlink serve: RDMA available' "$SHM/serve.log"; then
    fail "serve: RDMA available on $DEV" "$(grep 'shardlink serve:' "$SHM/serve.log" | tail -3 | tr '\n' ' ')"
  fi
  if timeout 1000 socat -u "TCP6-LISTEN:$MARKER_PORT,bind=[$LOCAL],reuseaddr" "CREATE:$SHM/marker"; then
    pass "a's last word arrived over plain0 after the links came back" "$(cat "$SHM/marker")"
  else
    fail "a's last word arrived over plain0 after the links came back" "not within 1000 s"
  fi

  # --- what b saw of a's copies ---
  local line
  if line=$(grep -m1 'stored shard 2 from' "$SHM/serve.log") && cmp -s "$STORE/shard-2" "$WORK/src-fail.bin"; then
    pass "failover copy stored byte-identical" "${line#* }"
  else
    fail "failover copy stored byte-identical" "$(grep 'shard 2 ' "$SHM/serve.log" | tr '\n' ' '); cmp: $(cmp "$STORE/shard-2" "$WORK/src-fail.bin" 2>&1)"
  fi
  local cut_at abort_line abort_at took
  cut_at=$(sed -n 's/^plain0-down-at=//p' "$SHM/marker" 2>/dev/null)
  if abort_line=$(grep -m1 'shard 3 from .* aborted' "$SHM/serve.log"); then
    abort_at=${abort_line%% *}
    took=$(awk -v a="$cut_at" -v b="$abort_at" 'BEGIN { printf "%.1f", b - a }')
    if [ -n "$cut_at" ] && awk -v t="$took" -v m="$DOWN_BOUND" 'BEGIN { exit !(t >= 0 && t <= m) }'; then
      pass "both links down: serve reports the copy aborted within ${DOWN_BOUND}s" "${took}s after a's cut: ${abort_line#* }"
    else
      fail "both links down: serve reports the copy aborted within ${DOWN_BOUND}s" "${took}s after the cut (cut at '$cut_at'): ${abort_line#* }"
    fi
  else
    fail "both links down: serve reports the copy aborted within ${DOWN_BOUND}s" "no 'shard 3 ... aborted' line: $(grep 'shard 3' "$SHM/serve.log" | tr '\n' ' ')"
  fi
  if cmp -s "$STORE/shard-4" "$WORK/src-down.bin"; then
    pass "links back up: the RDMA copy stored byte-identical" "$(grep -m1 'stored shard 4 from' "$SHM/serve.log" | cut -d' ' -f2-)"
  else
    fail "links back up: the RDMA copy stored byte-identical" "$(grep 'shard 4 ' "$SHM/serve.log" | tr '\n' ' '); cmp: $(cmp "$STORE/shard-4" "$WORK/src-down.bin" 2>&1)"
  fi
  if [ ! -e "$STORE/shard-3" ] && [ ! -e "$STORE/shard-3.part" ]; then
    pass "both links down: nothing of shard 3 left as complete (no shard-3, no shard-3.part)"
  else
    fail "both links down: nothing of shard 3 left as complete (no shard-3, no shard-3.part)" "$(ls -l "$STORE" | tr '\n' ' ')"
  fi

  # --- clean stop ---
  if [ -n "$serve_pid" ] && kill -TERM "$serve_pid" 2>/dev/null; then
    wait "$serve_sub"
    if grep -q 'shardlink serve: stopped' "$SHM/serve.log"; then
      pass "serve: SIGTERM -> clean stop"
    else
      fail "serve: SIGTERM -> clean stop" "$(tail -3 "$SHM/serve.log" | tr '\n' ' ')"
    fi
  else
    fail "serve: SIGTERM -> clean stop" "serve process not found"
  fi
}

run_a() {
  # --- the perftest reference: client side, through a local relay to b's over plain0 ---
  socat "TCP4-LISTEN:$PERF_PORT,bind=127.0.0.1,reuseaddr,fork" "TCP6:[$PEER]:$RELAY_PORT" &
  bg_pids+=($!)
  local i ok= ref_bw=
  for i in $(seq 1 60); do # b boots at its own pace: retry until its server answers, not after a test ran
    if timeout 240 ib_write_bw -d "$DEV" -x 0 -s 1048576 -n 64 -F -p "$PERF_PORT" 127.0.0.1 >"$SHM/ib_write_bw.out" 2>&1; then
      ok=1; break
    fi
    grep -q 'remote address' "$SHM/ib_write_bw.out" && break
    sleep 2
  done
  ref_bw=$(awk '$1 == 1048576 { print $4 }' "$SHM/ib_write_bw.out")
  if [ -n "$ok" ] && [ -n "$ref_bw" ]; then
    pass "ib_write_bw a -> b across the RoCE link" "1 MiB x 64: $ref_bw MB/s"
  else
    fail "ib_write_bw a -> b across the RoCE link" "$(grep -v -e '^ *-*$' "$SHM/ib_write_bw.out" | tail -8 | tr '\n' ' ')"
  fi

  # --- b's serve up (its /health over plain0) ---
  local up=
  for i in $(seq 1 240); do
    curl -g -sf --max-time 5 "$(url "$PEER" /health)" >"$SHM/health.out" 2>/dev/null && { up=1; break; }
    sleep 1
  done
  if [ -z "$up" ]; then
    fail "b's serve reachable over plain0" "no /health from $(url "$PEER" /health) in 240 s"
    return
  fi
  pass "b's serve reachable over plain0" "$(grep '^rdma' "$SHM/health.out")"

  # --- 1. RDMA: a 16 MiB shard copy and 1,000 verified reads, with the same-run reference ---
  local m0 m1 out
  m0=$(peer_metrics)
  if out=$(timeout 600 "${SL[@]}" bench --connect "[$PEER]:$QUIC_PORT" --transport rdma --device "$DEV" \
      --size 16m --repeat 1 --reads 1000 --read-size 4k --no-warmup --json "${TLS[@]}" --tls-name client \
      "${CONNECT[@]}" 2>"$SHM/bench.err"); then
    echo "$out"
    local copy_line read_line copy_mbs
    copy_line=$(grep '"op":"copy"' <<<"$out"); read_line=$(grep '"op":"read"' <<<"$out")
    if [[ $copy_line == *'"transport":"rdma"'* && $read_line == *'"transport":"rdma"'* && $read_line == *'"count":1000,'* ]]; then
      copy_mbs=$(sed -n 's/.*"mb_per_s":\([0-9.]*\).*/\1/p' <<<"$copy_line")
      pass "RDMA across: 16 MiB copy + 1,000 verified 4 KiB reads (bench --connect)" \
        "copy $copy_mbs MB/s vs ib_write_bw $ref_bw MB/s = $(awk -v a="$copy_mbs" -v b="$ref_bw" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }') x; reads p50 $(sed -n 's/.*"p50_us":\([0-9.]*\).*/\1/p' <<<"$read_line") us"
    else
      fail "RDMA across: 16 MiB copy + 1,000 verified 4 KiB reads (bench --connect)" "not both over rdma: $out"
    fi
  else
    fail "RDMA across: 16 MiB copy + 1,000 verified 4 KiB reads (bench --connect)" "exit $?: $(tail -5 "$SHM/bench.err" | tr '\n' ' ')"
  fi
  m1=$(peer_metrics)
  local rin qin rout qout rops
  rin=$(( $(metric "$m1" "$B_RDMA_IN") - $(metric "$m0" "$B_RDMA_IN") ))
  qin=$(( $(metric "$m1" "$B_QUIC_IN") - $(metric "$m0" "$B_QUIC_IN") ))
  rout=$(( $(metric "$m1" "$B_RDMA_OUT") - $(metric "$m0" "$B_RDMA_OUT") ))
  qout=$(( $(metric "$m1" "$B_QUIC_OUT") - $(metric "$m0" "$B_QUIC_OUT") ))
  rops=$(( $(metric "$m1" "$OPS_RDMA_OUT") - $(metric "$m0" "$OPS_RDMA_OUT") ))
  if [ "$rin" -eq $((16 << 20)) ] && [ "$qin" -eq 0 ] && [ "$rout" -eq $((1000 * 4096)) ] && [ "$qout" -eq 0 ] \
      && [ "$rops" -ge 1000 ] && grep -q 'shardlink_info{node="serve-b",rdma="available"} 1' <<<"$m1"; then
    pass "b's /metrics: the copy and the reads went over RDMA" "received rdma $rin quic $qin; sent rdma $rout ($rops reads) quic $qout"
  else
    fail "b's /metrics: the copy and the reads went over RDMA" "received rdma $rin quic $qin; sent rdma $rout ($rops ops) quic $qout (want 16777216, 0, 4096000, >= 1000, 0)"
  fi

  # --- 2. RoCE link down mid-copy: failover to QUIC on plain0, every byte exactly once ---
  local size2 m2 m3 cpid line rc
  size2=$(stat -c %s "$WORK/src-fail.bin")
  m2=$(peer_metrics)
  "${SL[@]}" copy "$WORK/src-fail.bin" --to "[$PEER]:$QUIC_PORT" --shard 2 --device "$DEV" --udp-payload 8k \
    "${TLS[@]}" --tls-name client "${CONNECT[@]}" >"$SHM/copy2.out" 2>"$SHM/copy2.err" &
  cpid=$!
  local cut=
  # Cut at the first progress line over RDMA: the line lags the data (chunks in flight, the poll, the exec of
  # `ip` under emulation), and a cut at 25 % of a 32 MiB file once came after the copy had finished.
  if line=$(await_line "$SHM/copy2.err" '^copy: +[0-9]+% .* RDMA$' 300 "$cpid"); then
    if kill -0 "$cpid" 2>/dev/null && ip link set roce0 down; then
      cut=1
      say "RoCE link (roce0) down after: $line"
    fi
  fi
  rc=0; wait "$cpid" || rc=$?
  cat "$SHM/copy2.out" "$SHM/copy2.err"
  m3=$(peer_metrics)
  rin=$(( $(metric "$m3" "$B_RDMA_IN") - $(metric "$m2" "$B_RDMA_IN") ))
  qin=$(( $(metric "$m3" "$B_QUIC_IN") - $(metric "$m2" "$B_QUIC_IN") ))
  if [ -z "$cut" ]; then
    fail "RoCE link down mid-copy: copy fails over to QUIC and completes" "no cut: the copy (exit $rc) never showed progress over RDMA"
  elif [ $rc -eq 0 ] && grep -q "as shard 2: $size2 bytes .* over \[RDMA, QUIC\]" "$SHM/copy2.out" \
      && grep -q '^fallbacks: 1 ' "$SHM/copy2.out"; then
    pass "RoCE link down mid-copy: copy fails over to QUIC and completes" "$(head -1 "$SHM/copy2.out" | sed 's/.*: //')"
  else
    fail "RoCE link down mid-copy: copy fails over to QUIC and completes" "exit $rc: $(tr '\n' ' ' <"$SHM/copy2.out")"
  fi
  if [ "$rin" -gt 0 ] && [ "$qin" -gt 0 ] && [ $((rin + qin)) -eq "$size2" ]; then
    pass "failover: b received every byte exactly once" "rdma $rin + quic $qin = $size2"
  else
    fail "failover: b received every byte exactly once" "rdma $rin + quic $qin != $size2 (or one is 0)"
  fi

  # --- 3. both links down mid-copy: clear errors within the bound, nothing half-written as complete ---
  local down_at= done_at took
  "${SL[@]}" copy "$WORK/src-down.bin" --to "[$PEER]:$QUIC_PORT" --shard 3 --device "$DEV" --udp-payload 8k \
    "${TLS[@]}" --tls-name client "${CONNECT[@]}" >"$SHM/copy3.out" 2>"$SHM/copy3.err" &
  cpid=$!
  if line=$(await_line "$SHM/copy3.err" '^copy: +([1-9][0-9])% ' 300 "$cpid") && kill -0 "$cpid" 2>/dev/null \
      && ip link set plain0 down; then
    down_at=$EPOCHREALTIME
    say "plain0 down too (roce0 still down) after: $line"
  fi
  rc=0; wait "$cpid" || rc=$?
  done_at=$EPOCHREALTIME
  cat "$SHM/copy3.out" "$SHM/copy3.err"
  if [ -z "$down_at" ]; then
    fail "both links down: copy fails with a clear error within ${DOWN_BOUND}s" "no cut: the copy (exit $rc) ended before 10% or never started"
  else
    took=$(awk -v a="$down_at" -v b="$done_at" 'BEGIN { printf "%.1f", b - a }')
    line=$(grep -E '^(shardlink )?copy: ' "$SHM/copy3.err" | grep -v '%' | tail -1) # the CLI's error: "shardlink copy: ..."
    if [ $rc -ne 0 ] && [ -n "$line" ] && awk -v t="$took" -v m="$DOWN_BOUND" 'BEGIN { exit !(t <= m) }'; then
      pass "both links down: copy fails with a clear error within ${DOWN_BOUND}s" "exit $rc after ${took}s: $line"
    else
      fail "both links down: copy fails with a clear error within ${DOWN_BOUND}s" "exit $rc after ${took}s: '$line'"
    fi
    # b notices through its own QUIC idle timeout: keep the link down until it must have
    local wait_s
    wait_s=$(awk -v a="$down_at" -v b="$EPOCHREALTIME" -v m=75 'BEGIN { w = m - (b - a); print (w > 0 ? int(w) + 1 : 0) }')
    say "keeping the links down ${wait_s}s more, for b's side to time out"
    sleep "$wait_s"
  fi
  ip link set plain0 up

  # --- 4. both links back up: the next copy goes over RDMA again, across the link that went down ---
  local size4 m4 m5 port_up= metrics_up=
  ip link set roce0 up
  for i in $(seq 1 120); do
    ibv_devinfo -d "$DEV" 2>/dev/null | grep -q PORT_ACTIVE && { port_up=1; break; }
    sleep 0.5
  done
  for i in $(seq 1 60); do
    m4=$(peer_metrics 2>/dev/null) && [ -n "$m4" ] && { metrics_up=1; break; }
    sleep 1
  done
  size4=$(stat -c %s "$WORK/src-down.bin")
  if [ -z "$port_up" ] || [ -z "$metrics_up" ]; then
    fail "links back up: the next copy goes over RDMA" "port ACTIVE: ${port_up:-no}; b's /metrics over plain0: ${metrics_up:-no}"
  elif rc=0; timeout 600 "${SL[@]}" copy "$WORK/src-down.bin" --to "[$PEER]:$QUIC_PORT" --shard 4 --device "$DEV" \
      --transport rdma --quiet "${TLS[@]}" --tls-name client "${CONNECT[@]}" >"$SHM/copy4.out" 2>"$SHM/copy4.err" || rc=$?
      m5=$(peer_metrics)
      rin=$(( $(metric "$m5" "$B_RDMA_IN") - $(metric "$m4" "$B_RDMA_IN") ))
      qin=$(( $(metric "$m5" "$B_QUIC_IN") - $(metric "$m4" "$B_QUIC_IN") ))
      [ $rc -eq 0 ] && grep -q "as shard 4: $size4 bytes .* over RDMA\$" "$SHM/copy4.out" \
        && [ "$rin" -eq "$size4" ] && [ "$qin" -eq 0 ]; then
    pass "links back up: the next copy goes over RDMA" "$(head -1 "$SHM/copy4.out" | sed 's/.*: //'); b received rdma $rin quic $qin"
  else
    fail "links back up: the next copy goes over RDMA" "exit $rc: $(cat "$SHM/copy4.out" "$SHM/copy4.err" | tail -4 | tr '\n' ' '); b received rdma ${rin:-?} quic ${qin:-?} (want $size4, 0)"
  fi

  # --- the last word: tells b when plain0 went down (socat over plain0; roce0 stays down) ---
  local sent=
  for i in $(seq 1 60); do
    printf 'plain0-down-at=%s\n' "$down_at" | socat -u - "TCP6:[$PEER]:$MARKER_PORT" 2>/dev/null && { sent=1; break; }
    sleep 1
  done
  [ -n "$sent" ] && pass "last word to b over plain0 after it came back" \
    || fail "last word to b over plain0 after it came back" "b did not take it in 60 s"
}

say "device $DEV, peer $PEER, me $LOCAL"
case $ROLE in
  a) run_a ;;
  b) run_b ;;
  *) fail "role" "SHARDLINK_VM_ROLE must be a or b, not '$ROLE'" ;;
esac
[ "$failed" -eq 0 ]
