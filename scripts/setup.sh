#!/usr/bin/env bash
# Idempotent machine setup for building and testing cartsense.
# Installs only what is missing: the wasm32 target, wasm-bindgen-cli at the version pinned in
# Cargo.toml, Debian's chromium/chromium-driver, and the npm dev dependencies (among them
# binaryen, whose wasm-opt scripts/build.sh uses).
# Usage: scripts/setup.sh [--no-browser]   (--no-browser skips chromium, for `npm start`)
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=1
[ "${1:-}" = "--no-browser" ] && want_browser=0

say() { printf 'setup: %s\n' "$*" >&2; }

# The version pinned as `wasm-bindgen = "=X"` in Cargo.toml; the CLI must match it exactly.
bindgen_version=$(sed -n 's/^wasm-bindgen = { *version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml | head -n1)
[ -n "$bindgen_version" ] || { say "cannot find the pinned wasm-bindgen version in Cargo.toml"; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$\| $bindgen_version "; then
  say "installing wasm-bindgen-cli $bindgen_version (about 2 minutes)"
  # Not --locked: its lock file names dependency versions the registry mirror here may lack.
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

apt_wanted=()
if [ $want_browser = 1 ]; then
  [ -x /usr/bin/chromium ] || apt_wanted+=(chromium)
  [ -x /usr/bin/chromedriver ] || apt_wanted+=(chromium-driver)
fi
if [ ${#apt_wanted[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_wanted[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_wanted[@]}" >/dev/null
fi

# npm dependencies: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
