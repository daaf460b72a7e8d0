#!/usr/bin/env bash
# bench/soak.sh - the long QUIC soak on the host: READS verified 4 KiB reads (16 in flight) mixed with COPIES
# 16 KiB copies (4 in flight) on ONE peer connection, then the same checks as CI's soak stage: the connection
# still serves, no QUIC stream open on either node (ours and Netty's), threads at the warm baseline, no pooled
# buffer lent, direct memory within 64 MiB of the warm baseline. It is tests-java/.../QuicSoakTest at
# production size (CI runs it at 200,000 reads and 10,000 copies).
#
#   bench/soak.sh                         READS=1000000 COPIES=100000 (~20-40 min on 2 shared cores)
#   READS=300000 COPIES=30000 bench/soak.sh
#
# Prints the soak's summary lines (reads/s, direct memory before/after); exit 0 when every check passed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
READS=${READS:-1000000}
COPIES=${COPIES:-100000}
LOG=$(mktemp "${TMPDIR:-/tmp}/soak.XXXXXX.log")
echo "soak: $READS reads + $COPIES copies on one QUIC connection, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# through JUnit's console launcher, not surefire (whose fork timeout of 900 s a long soak exceeds)
(mvn -B -q -o -DskipTests package && mvn -B -q -o dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/test-classpath.txt) >"$LOG" 2>&1 || { tail -30 "$LOG"; exit 1; }
rc=0
java -Xmx512m -XX:MaxDirectMemorySize=512m -Dshardlink.soak.reads="$READS" -Dshardlink.soak.copies="$COPIES" \
  -Dshardlink.native.path="$ROOT/target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so" \
  -cp "target/classes:target/test-classes:$(cat target/test-classpath.txt)" \
  org.junit.platform.console.ConsoleLauncher --select-class io.shardlink.api.QuicSoakTest \
  --details=summary --disable-banner >>"$LOG" 2>&1 || rc=$?
grep -E '^soak:|tests (successful|failed)|Exception|Error' "$LOG" | head -12
[ $rc -eq 0 ] && echo "soak: PASSED (log $LOG)" || echo "soak: FAILED, exit $rc (log $LOG)"
exit $rc
