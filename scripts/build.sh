#!/usr/bin/env bash
# Builds the publishable package into pkg/ (and a copy for the demo in www/cartsense/): four wasm
# modules from this crate — the tracker (what a page needs before its first event), the session
# intelligence (loaded after it), without and with the merchant campaign engine (feature
# `campaigns`: a shop without campaigns does not download it), and the recommendations (loaded
# only by loadRecommendations) — each through cargo (size profile) → wasm-bindgen --target web →
# wasm-opt; then the JS shell (with the campaign glue and the prompt UI, loaded only with
# campaigns, and the recommendations' glue), minified, and the types.
set -euo pipefail
cd "$(dirname "$0")/.."

# wasm-opt from the npm package binaryen, pinned in package.json (scripts/setup.sh installs it),
# not Debian's: the same optimiser on every machine, so the size figures are reproducible, and
# version 132 makes each module 1.3–2.1 % smaller gzip than Debian's 108 with the same passes.
wasm_opt=node_modules/.bin/wasm-opt
[ -x "$wasm_opt" ] || { echo "build: $wasm_opt is missing: run scripts/setup.sh (or npm ci)" >&2; exit 1; }

rm -rf pkg && mkdir -p pkg
for module in tracker insight insight_campaigns recs; do
  features="${module%_campaigns}-module"
  [[ $module == *_campaigns ]] && features+=" campaigns"
  # The recommendations module is built for speed, not size (Cargo.toml, profile wasm-recs):
  # at opt-level "z" parsing a 100,000-item model took 68 ms in Chromium, over issue 6's 30 ms.
  profile=wasm-release
  [[ $module == recs ]] && profile=wasm-recs
  # No reference types in the shipped build: without the externref table wasm-bindgen would
  # create, std's panic formatting code is no longer kept alive through it (and Debian's
  # wasm-opt 108, used before, mis-rewrote that table). (The binding tests build with the
  # defaults.)
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=-reference-types" \
    cargo build --quiet --lib --target wasm32-unknown-unknown --profile "$profile" \
    --no-default-features --features "$features"
  # The precompiled std announces reference types in the target_features section even though
  # this crate is built without them; drop the section so wasm-bindgen does not look for an
  # externref table that is not there.
  "$wasm_opt" --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals \
    "target/wasm32-unknown-unknown/$profile/cartsense.wasm" -o "target/cartsense-$module.wasm"
  wasm-bindgen "target/cartsense-$module.wasm" \
    --target web --out-dir pkg --out-name "cartsense_$module" --no-typescript \
    --encode-into always --omit-default-module-path
  # --flatten --rereloop before -Oz, run twice, measured 1% smaller gzip than a plain -Oz;
  # Rust's wasm32 layout leaves the first KB of memory unused (the stack starts at 1 MB), which
  # --low-memory-unused lets wasm-opt exploit.
  "$wasm_opt" --flatten --rereloop -Oz -Oz --converge --low-memory-unused --zero-filled-memory \
    --strip-debug --strip-producers \
    --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "pkg/cartsense_${module}_bg.wasm" -o "pkg/cartsense_${module}_bg.wasm"
done
cp src/browser/index.js src/browser/autocapture.js src/browser/insight.js src/browser/campaigns.js src/browser/prompt.js \
  src/browser/recs.js src/browser/recs-widget.js src/browser/index.d.ts pkg/
node scripts/minify.mjs pkg/index.js pkg/autocapture.js pkg/insight.js pkg/campaigns.js pkg/prompt.js pkg/recs.js pkg/recs-widget.js \
  pkg/cartsense_tracker.js pkg/cartsense_insight.js pkg/cartsense_insight_campaigns.js pkg/cartsense_recs.js

rm -rf www/cartsense && cp -r pkg www/cartsense
echo "build: pkg/ ready ($(du -sh pkg | cut -f1))" >&2
