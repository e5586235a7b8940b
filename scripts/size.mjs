// Prints the gzip (level 9) bytes of what a page downloads: first everything it needs before
// its first event can be sent (the wasm module, the wasm-bindgen glue and the wrapper), then
// what is loaded later, on demand: the session intelligence (without or with the campaign
// engine), autocapture, the campaign glue and the prompt UI. Then two totals: everything a page
// without campaigns can load, and everything a page with campaigns can load (the other build of
// the intelligence, its glue and the prompt UI), and everything a page with recommendations
// (without campaigns) can load: that page's total plus the recommendations module, its glue and
// the widget, loaded only by loadRecommendations (the model file itself is the shop's data, not
// counted). Exits 1 when the first part is over its budget
// in size-budget.json, or a total over its ceiling, so CI fails when the download grows past
// what was agreed.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const budget = JSON.parse(readFileSync(new URL('../size-budget.json', import.meta.url)));
const measure = (files) =>
  files.map((file) => {
    const raw = readFileSync(file);
    return [file, raw.length, gzipSync(raw, { level: 9 }).length];
  });
const initial = measure(['pkg/cartsense_tracker_bg.wasm', 'pkg/cartsense_tracker.js', 'pkg/index.js']);
const loader = measure(['pkg/insight.js']);
const insight = measure(['pkg/cartsense_insight_bg.wasm', 'pkg/cartsense_insight.js']);
const insightCampaigns = measure(['pkg/cartsense_insight_campaigns_bg.wasm', 'pkg/cartsense_insight_campaigns.js']);
const autocapture = measure(['pkg/autocapture.js']);
const campaigns = measure(['pkg/campaigns.js', 'pkg/prompt.js']);
const recs = measure(['pkg/recs.js', 'pkg/cartsense_recs_bg.wasm', 'pkg/cartsense_recs.js', 'pkg/recs-widget.js']);
const sum = (rows) => rows.reduce((total, [, , gz]) => total + gz, 0);
const pad = (s, n) => String(s).padStart(n);
const row = (label, raw, gz, note = '') => console.log(`${label.padEnd(48)}${pad(raw, 9)}${pad(gz, 9)}  ${note}`);

const notes = {
  'pkg/insight.js': 'loads the session intelligence after the first event',
  'pkg/cartsense_insight_bg.wasm': 'session intelligence, without campaigns',
  'pkg/cartsense_insight.js': 'session intelligence, without campaigns',
  'pkg/cartsense_insight_campaigns_bg.wasm': 'session intelligence with the campaign engine, instead',
  'pkg/cartsense_insight_campaigns.js': 'session intelligence with the campaign engine, instead',
  'pkg/autocapture.js': 'loaded on demand (autocapture: true)',
  'pkg/campaigns.js': 'campaign glue, with campaigns only',
  'pkg/prompt.js': 'prompt UI, with campaigns, when a prompt shows',
  'pkg/recs.js': 'recommendations glue, loaded by loadRecommendations',
  'pkg/cartsense_recs_bg.wasm': 'recommendations (model reader and ranker), likewise',
  'pkg/cartsense_recs.js': 'recommendations, likewise',
  'pkg/recs-widget.js': 'recommendations widget, when the page has [data-cs-recs]',
};
row('file', 'bytes', 'gzip -9');
initial.forEach(([file, raw, gz]) => row(file, raw, gz));
const firstEvent = sum(initial);
row('before the first event', '', firstEvent, `budget ${budget.initialGzipBytes}`);
[...loader, ...insight, ...insightCampaigns, ...autocapture, ...campaigns, ...recs].forEach(([file, raw, gz]) => row(file, raw, gz, notes[file]));
const without = firstEvent + sum(loader) + sum(insight) + sum(autocapture);
const withCampaigns = firstEvent + sum(loader) + sum(insightCampaigns) + sum(autocapture) + sum(campaigns);
row('everything a page without campaigns can load', '', without, `ceiling ${budget.withoutCampaignsGzipBytes}`);
row('everything a page with campaigns can load', '', withCampaigns, `ceiling ${budget.withCampaignsGzipBytes}`);
const withRecs = without + sum(recs);
row('everything a page with recommendations can load', '', withRecs, `ceiling ${budget.withRecommendationsGzipBytes} (without campaigns)`);

const limits = [
  [firstEvent, budget.initialGzipBytes, 'before the first event is over the budget'],
  [without, budget.withoutCampaignsGzipBytes, 'that a page without campaigns can load is over the ceiling'],
  [withCampaigns, budget.withCampaignsGzipBytes, 'that a page with campaigns can load is over the ceiling'],
  [withRecs, budget.withRecommendationsGzipBytes, 'that a page with recommendations can load is over the ceiling'],
];
let failed = false;
for (const [bytes, limit, what] of limits) {
  if (!(bytes <= limit)) {
    console.error(`size: ${bytes} bytes gzip ${what} of ${limit}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
