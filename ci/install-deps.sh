#!/usr/bin/env bash
# Installs, on a fresh Debian 12 machine, every package shardlink's build and tests need.
# Idempotent and quiet when everything is already there: it only calls apt-get for what is missing.
set -euo pipefail

PACKAGES=(
  # native shim and its tests
  cmake make gcc clang pkg-config libibverbs-dev librdmacm-dev rdma-core ibverbs-providers ibverbs-utils perftest
  # the rxe VM (ci/rxe-vm.sh)
  qemu-system-x86 busybox-static kmod cpio iproute2  # iproute2: ip, rdma and tc (netem faults) in the guest
  # the two-guest stage (ci/pair-test.sh): relays ib_write_bw's IPv4-only handshake over IPv6 link-local
  socat
  # Java side
  openjdk-17-jdk-headless maven
  # result counting in ci/test.sh
  python3
  # promtool (ci/smoke-cli.sh lints serve's /metrics). Debian ships it only in the server package: on a
  # systemd machine this also starts a Prometheus on :9090 (systemctl disable --now prometheus if unwanted)
  prometheus
  # serve's status page in a real browser (ci/browser-status.sh): headless Chromium, driven over the DevTools
  # protocol by Debian's python3 with its websocket client
  chromium python3-websocket
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv); a working interpreter is what counts.
# (exact names only: a pattern would also cut "python3" out of "python3-websocket")
if command -v python3 >/dev/null 2>&1; then
  kept=()
  for p in "${missing[@]}"; do [ "$p" = python3 ] || kept+=("$p"); done
  missing=("${kept[@]}")
fi
read -r -a missing <<<"${missing[*]:-}"

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install packages (run as root or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
