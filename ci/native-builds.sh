#!/usr/bin/env bash
# ci/native-builds.sh - builds the native shim, the JNI library and the native tests with the chosen
# compilers and CMake build types, warnings as errors (-DSHARDLINK_WERROR=ON), and runs the host native
# tests of each build (device tests skip on a host without RDMA; the VM stage runs them).
#
#   ci/native-builds.sh [--reports DIR] [--no-tests] [CC:TYPE ...]
#
#   CC:TYPE     e.g. gcc:Release clang:Debug. Default: gcc and clang x Debug, Release, RelWithDebInfo,
#               MinSizeRel (the whole matrix the shim must stay warning-clean under; a developer's check,
#               ci/test.sh runs gcc:Release and clang:Release).
#   --reports   where the JUnit reports go (native-CC-TYPE.xml, lower case; default build-reports)
#   --no-tests  build only
# Build trees: build-CC-TYPE/ (lower case), logs next to the reports. Exits non-zero if any build or
# test failed; every requested build runs regardless.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
reports=$ROOT/build-reports
tests=1
builds=()
while (($#)); do
  case $1 in
    --reports) reports=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    --no-tests) tests=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *:*) builds+=("$1"); shift ;;
    *) echo "native-builds: '$1' is not CC:TYPE (e.g. clang:Release)" >&2; exit 2 ;;
  esac
done
if ((${#builds[@]} == 0)); then
  for cc in gcc clang; do
    for type in Debug Release RelWithDebInfo MinSizeRel; do builds+=("$cc:$type"); done
  done
fi
mkdir -p "$reports"
if [ -z "${JAVA_HOME:-}" ] && command -v javac >/dev/null 2>&1; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
  export JAVA_HOME
fi

rc=0
for b in "${builds[@]}"; do
  cc=${b%%:*} type=${b#*:}
  name=$(tr '[:upper:]' '[:lower:]' <<<"$cc-$type")
  dir=build-$name log=$reports/cmake-$name.log
  if ! command -v "$cc" >/dev/null 2>&1; then
    echo "native-builds: $b: compiler '$cc' not found (ci/install-deps.sh installs gcc and clang)"; rc=1; continue
  fi
  # a fresh tree: a cached compiler or build type from an earlier run must not stand in for this one
  rm -rf "$dir"
  if CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DSHARDLINK_WERROR=ON \
       ${JAVA_HOME:+-DJAVA_HOME="$JAVA_HOME"} >"$log" 2>&1 \
     && cmake --build "$dir" -j2 >>"$log" 2>&1; then
    # -Werror stops on errors; this also catches a warning from a tool or flag -Werror does not cover
    if grep -q 'warning:' "$log"; then
      grep -A3 'warning:' "$log" | head -40; echo "native-builds: $b: warnings (see $log)"; rc=1
    else
      echo "native-builds: $b: built, no warnings ($(grep -E '^CMAKE_C_COMPILER:' "$dir/CMakeCache.txt" | cut -d= -f2))"
    fi
  else
    tail -40 "$log"; echo "native-builds: $b: build FAILED (see $log)"; rc=1; continue
  fi
  if ((tests)); then
    (cd "$dir" && ctest --output-on-failure --no-tests=error --output-junit "$reports/native-$name.xml") \
      >>"$log" 2>&1 || { tail -40 "$log"; echo "native-builds: $b: host native tests FAILED"; rc=1; }
    grep -E 'tests passed|tests failed' "$log" | tail -1 | sed "s/^/native-builds: $b: /"
  fi
done
exit $rc
