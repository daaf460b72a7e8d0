#!/usr/bin/env bash
# ci/consumer.sh - shardlink as a storage server's build consumes it: the published Maven artifact.
#
#   ci/consumer.sh --build      mvn install shardlink (jar with the JNI library inside, sources, javadoc) into
#                               the local repository, build examples/consumer against it (its own pom.xml, the
#                               installed coordinates only), write its runtime classpath, and make its TLS files
#   ci/consumer.sh [--expect QUIC|RDMA] [--devices A,B] [--connect-timeout S] [--junit FILE]
#                               run the consumer's main with plain java -cp from that classpath (no Maven, no
#                               -Dshardlink.native.path): two nodes, a verified copy and read; --expect fails
#                               the run unless that transport did both. --junit writes a one-case report.
# The run part is what the rxe VM does (ci/vm-stage.sh): no Maven inside the VM.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
C=$ROOT/examples/consumer
if [ -z "${JAVA_HOME:-}" ] && command -v javac >/dev/null 2>&1; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
  export JAVA_HOME
fi

if [ "${1:-}" = --build ]; then
  set -e
  mvn -B -ntp -q -DskipTests install
  (cd "$C" && mvn -B -ntp -q package)
  rm -rf "$C/target/tls"
  SHARDLINK_NO_BUILD=1 bin/shardlink certs --dir "$C/target/tls" --name source,target >/dev/null
  echo "consumer: built against $(tr ':' '\n' <"$C/target/classpath.txt" | grep '/io/shardlink/shardlink/')"
  exit 0
fi

junit=
args=()
while (($#)); do
  case $1 in
    --junit) junit=$2; shift 2 ;;
    --expect|--devices|--connect-timeout) args+=("$1" "$2"); shift 2 ;;
    *) echo "consumer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$C/target/classpath.txt" ] && [ -d "$C/target/classes" ] \
  || { echo "consumer.sh: not built (run ci/consumer.sh --build on the host first)" >&2; exit 2; }
store=$(mktemp -d "${TMPDIR:-/tmp}/shardlink-consumer.XXXXXX")
start=$(date +%s)
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
out=$("$java" -Xmx256m ${SHARDLINK_CONSUMER_JAVA_OPTS:-} -cp "$C/target/classes:$(cat "$C/target/classpath.txt")" \
  com.example.storage.ConsumerMain --tls "$C/target/tls" --store "$store" "${args[@]}" 2>&1)
rc=$?
rm -rf "$store"
echo "$out"
secs=$(($(date +%s) - start))
echo "consumer: exit $rc in ${secs}s"
if [ -n "$junit" ]; then
  name="consumer copies and reads${args[*]:+ (${args[*]})}"
  if [ $rc -eq 0 ]; then
    printf '<testsuite name="consumer"><testcase classname="consumer" name="%s" time="%s"/></testsuite>\n' \
      "$name" "$secs" >"$junit"
  else
    printf '<testsuite name="consumer"><testcase classname="consumer" name="%s" time="%s"><failure message="exit %s"/></testcase></testsuite>\n' \
      "$name" "$secs" "$rc" >"$junit"
  fi
fi
exit $rc
