#!/usr/bin/env bash
# bench/close-cycles.sh - the long run of CloseCyclesTest: CYCLES (1000) cycles of start two nodes, copy,
# read, close both, each checking at once that close() left no thread of either node alive. CI runs 100
# (tests-java/io/shardlink/api/CloseCyclesTest.java); 1,000 take about 5-25 minutes on 2 shared cores.
#
#   bench/close-cycles.sh              CYCLES=1000
#   CYCLES=300 bench/close-cycles.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CYCLES=${CYCLES:-1000}
mvn -B -ntp -q test -Dtest='CloseCyclesTest#everyCloseLeavesNoThreadAlive' -Dsurefire.failIfNoSpecifiedTests=false \
  -Dshardlink.closeCycles="$CYCLES" -Dshardlink.native.skip=true
