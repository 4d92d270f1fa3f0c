# Shared by scripts/run and scripts/test: install what is missing, then build.
# Idempotent: a second run installs nothing and rebuilds only what changed.

set -euo pipefail

ESSIM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian 12 packages essim builds and tests with (nothing is downloaded at build time).
ESSIM_PACKAGES=(
  g++ clang cmake ninja-build
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  libyaml-cpp-dev libboost-dev libcli11-dev libfmt-dev nlohmann-json3-dev libssl-dev
)
# Only the tests need these: the viewer is checked in a real headless Chromium;
# the Python SDK, the Python bank and the Node.js counter run as external domains.
ESSIM_TEST_PACKAGES=(chromium python3 nodejs)

log() { printf '==> %s\n' "$*" >&2; }

install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then
      sudo=(sudo)
    else
      echo "essim: these Debian packages are missing and I am not root: ${missing[*]}" >&2
      echo "       install them with: apt-get install ${missing[*]}" >&2
      exit 2
    fi
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# build PRESET: configure (once) and build with CMake's preset.
build() {
  local preset=$1
  cd "$ESSIM_ROOT"
  if [ ! -f "build/$preset/build.ninja" ]; then
    log "configuring ($preset)"
    cmake --preset "$preset" >/dev/null
  fi
  log "building ($preset)"
  cmake --build --preset "$preset"
}

jobs() { nproc 2>/dev/null || echo 2; }
