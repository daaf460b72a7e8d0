#!/usr/bin/env bash
# Installs, on a fresh Debian 12 machine, every package shardlink's build and tests need.
# Idempotent and quiet when everything is already there: it only calls apt-get for what is missing.
set -euo pipefail

PACKAGES=(
  # native shim and its tests
  cmake make gcc pkg-config libibverbs-dev librdmacm-dev rdma-core ibverbs-providers ibverbs-utils perftest
  # the rxe VM (ci/rxe-vm.sh)
  qemu-system-x86 busybox-static kmod cpio iproute2
  # the two-guest stage (ci/pair-test.sh): relays ib_write_bw's IPv4-only handshake over IPv6 link-local
  socat
  # Java side
  openjdk-17-jdk-headless maven
  # result counting in ci/test.sh
  python3
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# python3 may come from elsewhere (pyenv); a working interpreter is what counts.
if command -v python3 >/dev/null 2>&1; then
  missing=("${missing[@]/python3}")
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
