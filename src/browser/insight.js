// cartsense session intelligence in the page: loads the insight wasm module (interests, intent
// and abandonment, segments, session summaries) after the tracker has queued the first event, so
// it never delays it. The shell (index.js) feeds it the events the tracker accepted.
//
// The module comes in two builds: cartsense_insight, and cartsense_insight_campaigns with the
// merchant campaign engine, which is most of its size: only a shop that configures campaigns
// loads that one (and campaigns.js, the engine's glue in the page).

/** Loads the build the options call for (`campaigns`: the one with the campaign engine) from
 * `wasmUrl`, or from next to its glue, and starts the intelligence on the `stored` state. */
export async function start(options, stored, campaigns, wasmUrl) {
  // Literal paths, so that bundlers see both builds and copy their wasm files.
  const glue = campaigns ? await import('./cartsense_insight_campaigns.js') : await import('./cartsense_insight.js');
  const wasm = campaigns
    ? new URL('./cartsense_insight_campaigns_bg.wasm', import.meta.url)
    : new URL('./cartsense_insight_bg.wasm', import.meta.url);
  await glue.default({ module_or_path: wasmUrl || wasm });
  return new glue.Insight(options, stored || '');
}
