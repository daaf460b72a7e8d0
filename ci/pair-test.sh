#!/usr/bin/env bash
# The two-guest stage of ci/test.sh: cross-host RoCE between two kernels (ci/rxe-pair.sh).
#   ci/pair-test.sh [REPORT_DIR]     (default build-reports/pair)
# Prepares a work dir on the host (TLS certs from `bin/shardlink certs`, two random source files),
# runs ci/pair-stage.sh in guests a and b, and leaves their JUnit XML (a.xml, b.xml) in REPORT_DIR.
# A guest that never wrote its report (it died, RDMA never came up, the run timed out) gets a report
# with one failed case instead: this stage fails, it never skips. Needs the jar (bin/shardlink builds
# it) and the native build, like ci/vm-stage.sh. One VM run at a time on a shared machine:
#   flock /tmp/shardlink-vm.lock ci/pair-test.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
out=${1:-build-reports/pair}
mkdir -p "$out" && rm -f "$out"/*.xml
command -v socat >/dev/null || { echo "pair-test: socat missing (ci/install-deps.sh installs it)" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardlink-pair.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
bin/shardlink certs --dir "$WORK/tls" --name server,client >"$WORK/certs.log" 2>&1 \
  || { cat "$WORK/certs.log"; echo "pair-test: certs failed" >&2; exit 1; }
head -c $((48 << 20)) /dev/urandom >"$WORK/src-fail.bin"
head -c $((24 << 20)) /dev/urandom >"$WORK/src-down.bin"
start=$(date +%s)
bash ci/rxe-pair.sh --mem 2048 --timeout 1200 -- ci/pair-stage.sh "$WORK"
rc=$?
for role in a b; do
  if [ -s "$WORK/$role.xml" ]; then
    cp "$WORK/$role.xml" "$out/$role.xml"
  else
    printf '<testsuite name="pair-%s"><testcase classname="pair-%s" name="guest %s ran its stage"><failure message="no report: rxe-pair.sh exited %s"/></testcase></testsuite>\n' \
      "$role" "$role" "$role" "$rc" >"$out/$role.xml"
  fi
done
echo "pair-test: rxe-pair.sh exited $rc after $(($(date +%s) - start))s"
exit $rc
