// cartsense session intelligence in the page: loads the insight wasm module (interests, intent
// and abandonment, segments, session summaries) after the tracker has queued the first event,
// so it never delays it. The shell (index.js) feeds it the events the tracker accepted.
import load, { Insight } from './cartsense_insight.js';

export async function start(options, stored, wasmUrl) {
  // The wasm file sits next to this module; bundlers see and copy it through this URL.
  await load({ module_or_path: wasmUrl || new URL('./cartsense_insight_bg.wasm', import.meta.url) });
  return new Insight(options, stored || '');
}
