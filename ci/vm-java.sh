#!/usr/bin/env bash
# Developer loop: run chosen JUnit classes (or methods) INSIDE the rxe VM, without the whole VM stage.
#   mvn -q -o test-compile && mvn -q -o dependency:build-classpath -Dmdep.includeScope=test \
#       -Dmdep.outputFile=target/test-classpath.txt
#   ci/rxe-vm.sh --mem 3072 -- ci/vm-java.sh io.shardlink.rdma.path.RdmaCopyRdmaTest [more selectors]
# A selector is a class (a.b.C) or a method (a.b.C#method). Reports go to build-reports/vm-java.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: ci/vm-java.sh CLASS[#METHOD]..." >&2; exit 2; }
export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:+$JAVA_TOOL_OPTIONS }-XX:-UseSHA" # see vm-stage.sh
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
selectors=()
for s in "$@"; do
  case "$s" in *#*) selectors+=(--select-method "$s") ;; *) selectors+=(--select-class "$s") ;; esac
done
exec "$java_home/bin/java" -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  -Dshardlink.native.path="$PWD/target/classes/META-INF/native/linux-x86_64/libshardlink_jni.so" \
  -cp "target/classes:target/test-classes:$(cat target/test-classpath.txt)" \
  org.junit.platform.console.ConsoleLauncher "${selectors[@]}" \
  --details=tree --disable-banner --reports-dir build-reports/vm-java
