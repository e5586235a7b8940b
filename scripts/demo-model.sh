#!/usr/bin/env bash
# The demo storefront's recommendations model, www/recs.bin: `cartsense-lab build-recs` on the
# REES46 sample in ../shared/data/ (or $CARTSENSE_DATA). The build is deterministic, and its
# output is committed so that the demo and the end-to-end tests also work where the data folder
# is not beside the checkout (a CI clone elsewhere).
#   scripts/demo-model.sh            build it only when it is missing (`npm test`)
#   scripts/demo-model.sh --rebuild  build it from the data whenever the data is there (`npm start`)
set -euo pipefail
cd "$(dirname "$0")/.."

data="${CARTSENSE_DATA:-../shared/data}/rees46_multicat_2019-Oct_head.csv"
if [[ -s www/recs.bin && ( ${1:-} != --rebuild || ! -f $data ) ]]; then
  exit 0
fi
if [[ ! -f $data ]]; then
  echo "demo-model: www/recs.bin is missing and so is $data, the data it is built from (set CARTSENSE_DATA to the data folder)" >&2
  exit 1
fi
cargo build --quiet --release -p cartsense-lab
target/release/cartsense-lab build-recs --data "$data" --format rees46 --out www/recs.bin
