#!/usr/bin/env bash
# `npm start`: installs what is missing, builds the package and the collector, and serves the
# demo storefront and the collector together on http://127.0.0.1:${PORT:-8080}/.
# Events the demo sends are stored in target/demo/collector.db; see them with
#   target/release/cartsense-collector export --db target/demo/collector.db
# and what each prompt campaign added against its holdout with
#   target/release/cartsense-collector report --db target/demo/collector.db
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --no-browser
bash scripts/build.sh
bash scripts/demo-model.sh --rebuild # www/recs.bin, the demo's recommendations model, from ../shared/data
cargo build --quiet --release -p cartsense-collector

port="${PORT:-8080}"
mkdir -p target/demo
echo "start: demo storefront and collector at http://127.0.0.1:${port}/ (Ctrl-C stops)" >&2
exec target/release/cartsense-collector serve --addr "127.0.0.1:${port}" --db target/demo/collector.db --www www
