#!/usr/bin/env bash
# Installs the peers that the interop and browser tests (crates/workos-cli-auth/tests/
# interop.rs and browser.rs) and bench/emulator.sh use, from the package registries
# only. Idempotent: what is already there (and up to date) is skipped. Run as root on
# Debian; .ci/run calls it before `cargo test`.
#
#   Debian:  chromium, chromium-driver (chromedriver), wrk
#   PyPI:    tests/interop/python/requirements.txt  -> tests/interop/python/.venv
#   npm:     tests/interop/node/package-lock.json   -> tests/interop/node/node_modules
#   crates:  tests/interop/rust (official `workos` SDK; its own workspace, lockfile and
#            target dir) built in debug, so the test only runs it
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS

step() { printf '\n==> setup-peers: %s\n' "$*"; }

# A stamp file holding the hash of the inputs an install step used: skip when unchanged.
fresh() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

step "Debian packages: chromium chromium-driver wrk"
missing=()
for pkg in chromium chromium-driver wrk; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-peers: need root and apt-get to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Skip the index refresh when the lists already know the packages (.ci/run updates them).
  apt-cache show "${missing[@]}" >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "already installed"
fi
chromium --version 2>/dev/null | head -1 || true
chromedriver --version | head -1

step "Python: the official workos SDK in tests/interop/python/.venv"
venv=tests/interop/python/.venv
if ! python3 -m venv --help >/dev/null 2>&1; then
  # Debian's own python3 needs python3-venv; other Pythons ship the module.
  apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
want=$(sha256sum tests/interop/python/requirements.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && fresh "$venv/.requirements.sha256" "$want"; then
  echo "up to date"
else
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --require-virtualenv -r tests/interop/python/requirements.txt
  echo "$want" >"$venv/.requirements.sha256"
fi
"$venv/bin/python" -c 'import importlib.metadata as m; print("workos", m.version("workos"))'

step "Node: @workos-inc/node and jose in tests/interop/node/node_modules"
command -v node >/dev/null || { echo "setup-peers: node is not installed" >&2; exit 1; }
want=$(cat tests/interop/node/package-lock.json <(node --version) | sha256sum | cut -d' ' -f1)
if fresh tests/interop/node/node_modules/.setup-peers.sha256 "$want"; then
  echo "up to date"
else
  (cd tests/interop/node && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >tests/interop/node/node_modules/.setup-peers.sha256
fi
node -p 'require("./tests/interop/node/node_modules/@workos-inc/node/package.json").version'

step "Rust: the official workos SDK program (tests/interop/rust, debug)"
# Its own target dir, whatever CARGO_TARGET_DIR says, so the test finds it there.
CARGO_TARGET_DIR="$root/tests/interop/rust/target" \
  cargo build --locked --quiet --manifest-path tests/interop/rust/Cargo.toml
ls -l tests/interop/rust/target/debug/workos-interop-rust | awk '{print $5, $9}'

step "done in $((SECONDS - started)) s"
