#!/usr/bin/env bash
# bench/jmh.sh [JMH ARGS...] - builds the JMH benchmarks (Maven profile jmh, bench/jmh/java) and runs them.
#
#   bench/jmh.sh EnvelopeCodecBench -prof gc          envelope codec on the host (ns/op, B/op)
#   ci/rxe-vm.sh -- env SHARDLINK_NO_BUILD=1 bench/jmh.sh RdmaPostPollBench -prof gc
#                                                     one post+poll through JNI on rxe0, in the VM
#                                                     (build on the host first: bench/jmh.sh -l)
# SHARDLINK_NO_BUILD=1 skips Maven (it is far too slow under emulation) and uses what the last build left.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
if [ "${SHARDLINK_NO_BUILD:-0}" != 1 ]; then
  if [ -z "${JAVA_HOME:-}" ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")"); export JAVA_HOME
  fi
  mvn -q -B -Pjmh -DskipTests process-test-classes >target/jmh-build.log 2>&1 \
    || { tail -30 target/jmh-build.log >&2; echo "bench/jmh.sh: build failed (target/jmh-build.log)" >&2; exit 1; }
fi
grep -q jmh-core target/test-classpath.txt 2>/dev/null \
  || { echo "bench/jmh.sh: target/ was not built with -Pjmh (run without SHARDLINK_NO_BUILD=1 on the host)" >&2; exit 1; }
opts=()
lib=target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so
[ -f "$lib" ] && opts+=("-Dshardlink.native.path=$ROOT/$lib")
exec java "${opts[@]}" -cp "$(cat target/test-classpath.txt):target/classes:target/test-classes" \
  org.openjdk.jmh.Main "$@"
