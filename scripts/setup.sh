#!/usr/bin/env bash
# Installs what building and testing Garcon needs on Debian 12, only when
# something is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libssl-dev libsqlite3-dev libboost-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libmimalloc-dev  # the allocator the garcon command links (docs/benchmarks.md)
  clang-14 libclang-rt-14-dev  # make fuzz: clang 14, libFuzzer and the sanitizer runtimes
  file dpkg-dev  # make package: CPack's .deb, dpkg-shlibdeps
  chromium  # the console test (tests/console): headless Chromium
)
here="$(cd "$(dirname "$0")/.." && pwd)"

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm drive the console test; any install of them will do (a
# system that has them from elsewhere keeps its own).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -ne 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The console test's npm packages (puppeteer-core), as package-lock.json pins them.
if [ ! -d "$here/tests/console/node_modules" ]; then
  echo "installing the console test's npm packages (tests/console)"
  (cd "$here/tests/console" && npm ci --no-audit --no-fund)
fi
