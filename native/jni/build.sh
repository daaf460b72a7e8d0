#!/usr/bin/env bash
# native/jni/build.sh - builds libshardlink_jni.so for the Maven build (generate-resources) and
# puts it where the jar picks it up: target/classes/META-INF/native/linux-x86_64/.
#
#   native/jni/build.sh [TARGET_DIR]     (TARGET_DIR defaults to <repo>/target)
#
# Without the rdma-core headers (libibverbs-dev) or cmake it prints one warning and exits 0: the
# jar still builds, and Java reports RDMA unavailable ("native library not built: install
# libibverbs-dev and rebuild"). A real compile error fails the build (skip it with
# mvn -Dshardlink.native.skip=true). Build log: TARGET_DIR/native-build.log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${1:-$root/target}
build=$target/native-build
dest=$target/classes/META-INF/native/linux-x86_64
log=$target/native-build.log
verbs_h=${SHARDLINK_VERBS_H:-/usr/include/infiniband/verbs.h}

if [ ! -f "$verbs_h" ]; then
  echo "[shardlink] WARNING: $verbs_h not found: libshardlink_jni.so not built, RDMA will report unavailable (install libibverbs-dev and rebuild)"
  exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
  echo "[shardlink] WARNING: cmake not found: libshardlink_jni.so not built, RDMA will report unavailable (install cmake and rebuild)"
  exit 0
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -f "$JAVA_HOME/include/jni.h" ]; then
  if javac=$(command -v javac); then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$javac")")")
    export JAVA_HOME
  fi
fi

mkdir -p "$build" "$dest"
: >"$log"
run() {
  if ! "$@" >>"$log" 2>&1; then
    echo "[shardlink] native build failed: $*" >&2
    tail -40 "$log" >&2
    echo "[shardlink] full log: $log (skip the native build with -Dshardlink.native.skip=true)" >&2
    exit 1
  fi
}
run cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${SHARDLINK_BUILD_TYPE:-RelWithDebInfo}" \
  -DSHARDLINK_BUILD_TESTS=OFF -DSHARDLINK_BUILD_JNI=ON -DSHARDLINK_SANITIZE=OFF \
  ${JAVA_HOME:+-DJAVA_HOME="$JAVA_HOME"}
run cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)"

lib=$build/native/jni/libshardlink_jni.so
if [ ! -f "$lib" ]; then
  echo "[shardlink] WARNING: libshardlink_jni.so was not produced (no JDK headers? see $log): RDMA will report unavailable"
  exit 0
fi
install -m 0755 "$lib" "$dest/libshardlink_jni.so"
echo "[shardlink] built $dest/libshardlink_jni.so"
