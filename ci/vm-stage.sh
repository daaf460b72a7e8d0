#!/usr/bin/env bash
# The part of ci/test.sh that runs INSIDE the rxe VM (started by ci/rxe-vm.sh, which sets
# SHARDLINK_REQUIRE_RDMA=1 so that device tests fail instead of skipping).
# Runs every device test against real rxe devices: the native suite plain and sanitized, then the
# Java RDMA tests. Writes JUnit XML into $1 (default build-reports/vm); ci/test.sh counts them on
# the host. Runs all three parts even if one fails, and exits non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-reports/vm}
mkdir -p "$out"
rc=0
# A JVM under QEMU's TCG emulation was seen to die once with SIGSEGV in the intrinsified SHA-2 code
# (DigestBase.implCompressMultiBlock, used by TLS): use the plain Java digest in every JVM here, the
# child JVMs that tests start included. The host stages keep the intrinsics.
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }-XX:-UseSHA"

if [ "${SHARDLINK_IN_VM:-0}" != 1 ]; then
  echo "vm-stage: not inside the rxe VM; run it through ci/rxe-vm.sh -- ci/vm-stage.sh" >&2
  exit 2
fi

echo "vm-stage: RDMA devices in the guest:"
rdma link show || rc=1

run_ctest() { # build-dir report-name
  echo "vm-stage: ctest in $1"
  (cd "$1" && ctest --output-on-failure --no-tests=error --output-junit "$PWD/../$out/$2.xml") || rc=1
  # test_mw_bind_stream puts netem loss on va and takes it off at exit; a test killed by ctest's timeout cannot, and
  # the Java tests after it must not inherit a lossy link
  for l in va vb; do tc qdisc del dev "$l" root 2>/dev/null || true; done
}
run_ctest build native
ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
  run_ctest build-asan native-asan

if [ -f target/test-classpath.txt ] && [ -d target/test-classes ]; then
  echo "vm-stage: Java RDMA tests (tag rdma)"
  rm -f "$out/fault-matrix.txt" # the fault tests' measured rows of this run (FaultMatrixSupport.report)
  java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
  "$java_home/bin/java" -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dshardlink.native.path="$PWD/target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so" \
    -Dshardlink.faultReport="$out/fault-matrix.txt" \
    -cp "target/classes:target/test-classes:$(cat target/test-classpath.txt)" \
    org.junit.platform.console.ConsoleLauncher \
    --scan-classpath target/test-classes --include-tag rdma \
    --details=tree --disable-banner --reports-dir "$out/java" || rc=1
else
  echo "vm-stage: no Java test build (target/test-classes, target/test-classpath.txt): run ci/test.sh" >&2
  rc=1
fi
# The CLI's own view from inside the VM: probe must find the rxe devices and call RDMA usable.
echo "vm-stage: bin/shardlink probe"
probe_out=$(SHARDLINK_NO_BUILD=1 SHARDLINK_JAVA_OPTS="-Xmx256m -XX:TieredStopAtLevel=1" bin/shardlink probe 2>&1); probe_rc=$?
echo "$probe_out"
if [ $probe_rc -eq 0 ] && grep -q '^RDMA: usable here' <<<"$probe_out" && grep -q 'rxea' <<<"$probe_out"; then
  printf '<testsuite name="vm-cli"><testcase classname="vm-cli" name="probe reports RDMA usable"/></testsuite>\n' >"$out/cli.xml"
else
  printf '<testsuite name="vm-cli"><testcase classname="vm-cli" name="probe reports RDMA usable"><failure message="probe exit %s or no RDMA usable line"/></testcase></testsuite>\n' "$probe_rc" >"$out/cli.xml"
  rc=1
fi
# --- BEGIN consumer (issue 10): the published artifact, run as a user's project runs it (java -cp from its own
# dependency list, no -Dshardlink.native.path), must move its copy and read over RDMA here
if [ -f examples/consumer/target/classpath.txt ]; then
  echo "vm-stage: examples/consumer over RDMA (${SHARDLINK_RXE_A:-rxea} -> ${SHARDLINK_RXE_B:-rxeb})"
  SHARDLINK_CONSUMER_JAVA_OPTS="-XX:+UseSerialGC -XX:TieredStopAtLevel=1" bash ci/consumer.sh --expect RDMA \
    --devices "${SHARDLINK_RXE_A:-rxea},${SHARDLINK_RXE_B:-rxeb}" --connect-timeout 120 --junit "$out/consumer.xml" || rc=1
else
  echo "vm-stage: examples/consumer is not built (ci/consumer.sh --build on the host)" >&2
  printf '<testsuite name="consumer"><testcase classname="consumer" name="consumer over RDMA"><failure message="not built"/></testcase></testsuite>\n' >"$out/consumer.xml"
  rc=1
fi
# --- END consumer
exit $rc
