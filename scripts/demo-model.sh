#!/usr/bin/env bash
# Builds the demo storefront's recommendations model, www/recs.bin (git-ignored), with
# `cartsense-lab build-recs` from the REES46 sample in ../shared/data/, unless it is already
# there (or `--force`). `npm start` and `npm test` run it: the demo and the end-to-end tests load
# that model.
set -euo pipefail
cd "$(dirname "$0")/.."

data=../shared/data/rees46_multicat_2019-Oct_head.csv
[[ ${1:-} != --force && -s www/recs.bin ]] && exit 0
if [[ ! -f $data ]]; then
  echo "demo-model: $data is missing: it is the data the demo's recommendations model is built from" >&2
  exit 1
fi
cargo build --quiet --release -p cartsense-lab
target/release/cartsense-lab build-recs --data "$data" --format rees46 --out www/recs.bin
