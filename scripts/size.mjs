// Prints the gzip (level 9) bytes of what a page downloads: first everything it needs before
// its first event can be sent (the wasm module, the wasm-bindgen glue and the wrapper), then
// what is loaded later, on demand (the session intelligence, autocapture, the prompt UI). Exits
// 1 when the first part is over the budget in size-budget.json, or everything together over its
// ceiling, so CI fails when the download grows past what was agreed.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const budget = JSON.parse(readFileSync(new URL('../size-budget.json', import.meta.url)));
const measure = (files) =>
  files.map((file) => {
    const raw = readFileSync(file);
    return [file, raw.length, gzipSync(raw, { level: 9 }).length];
  });
const initial = measure(['pkg/cartsense_tracker_bg.wasm', 'pkg/cartsense_tracker.js', 'pkg/index.js']);
const insight = measure(['pkg/cartsense_insight_bg.wasm', 'pkg/cartsense_insight.js', 'pkg/insight.js']);
const autocapture = measure(['pkg/autocapture.js']);
const prompt = measure(['pkg/prompt.js']);
const later = [...insight, ...autocapture, ...prompt];
const sum = (rows) => rows.reduce((total, [, , gz]) => total + gz, 0);
const pad = (s, n) => String(s).padStart(n);
const row = (label, raw, gz, note = '') => console.log(`${label.padEnd(34)}${pad(raw, 9)}${pad(gz, 9)}  ${note}`);

row('file', 'bytes', 'gzip -9');
initial.forEach(([file, raw, gz]) => row(file, raw, gz));
row('before the first event', '', sum(initial), `budget ${budget.initialGzipBytes}`);
insight.forEach(([file, raw, gz]) => row(file, raw, gz, 'session intelligence, loaded after the first event'));
autocapture.forEach(([file, raw, gz]) => row(file, raw, gz, 'loaded on demand (autocapture: true)'));
prompt.forEach(([file, raw, gz]) => row(file, raw, gz, 'prompt UI, loaded lazily when a prompt shows'));
row('everything the module can load', '', sum(initial) + sum(later), `ceiling ${budget.totalGzipBytes}`);

let failed = false;
if (sum(initial) > budget.initialGzipBytes) {
  console.error(`size: ${sum(initial)} bytes gzip before the first event is over the budget of ${budget.initialGzipBytes}`);
  failed = true;
}
if (sum(initial) + sum(later) > budget.totalGzipBytes) {
  console.error(`size: ${sum(initial) + sum(later)} bytes gzip in all is over the ceiling of ${budget.totalGzipBytes}`);
  failed = true;
}
process.exit(failed ? 1 : 0);
