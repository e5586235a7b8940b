// The wire format against its JSON Schema (schema/cartsense.v1.schema.json): drives the built
// wasm engine in Node through the same Tracker.run operations the browser shell uses, and
// validates every batch it would send — a mix of spec events, shop events, page and identify
// calls, a retried batch with a drop report, and beacon bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { initSync, Tracker } from '../../pkg/cartsense_tracker.js';

initSync({ module: readFileSync(new URL('../../pkg/cartsense_tracker_bg.wasm', import.meta.url)) });
const schema = JSON.parse(readFileSync(new URL('../../schema/cartsense.v1.schema.json', import.meta.url)));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

// Engine.run operations (src/wasm.rs).
const [TRACK, PAGE, IDENTIFY, DRAIN, ANSWER, UNLOAD] = [1, 2, 3, 6, 7, 8];
const context = JSON.stringify({
  page: { path: '/p/1', referrer: '', search: '?utm_source=news', title: 'Phone', url: 'https://shop.example/p/1?utm_source=news' },
  userAgent: 'node',
  locale: 'en-US',
  campaign: { source: 'news' },
});

function engine(options) {
  const t = new Tracker(JSON.stringify(options), 1, 2, 3, 4, false, '{}', 1_795_592_979_000);
  return { run: (op, text = '', json = '', n = 0, m = 0, now = 1_795_592_979_000) => t.run(op, text, json, context, n, m, now) };
}

function assertValid(body) {
  const ok = validate(JSON.parse(body));
  assert.ok(ok, JSON.stringify(validate.errors, null, 2) + '\n' + body.slice(0, 500));
}

test('every batch the engine sends matches the schema', () => {
  const t = engine({ endpoint: '/v1/batch', writeKey: 'wk', currency: 'EUR', flushAt: 500, maxQueue: 3 });
  const calls = [
    [PAGE, 'Home', JSON.stringify({ path: '/', title: 'Home' })],
    [TRACK, 'Product List Viewed', JSON.stringify({ list_id: 'home', products: [{ product_id: 'a', price: 1.5, position: 1 }] })],
    [TRACK, 'Product Viewed', JSON.stringify({ product_id: 1004856, price: 130.76, name: 'Phone', my_field: { nested: [1, 'x'] } })],
    [TRACK, 'Product Added', JSON.stringify({ product_id: 'p1', price: 19.99, quantity: 2, cart_id: 'c1' })],
    [TRACK, 'Order Completed', JSON.stringify({ order_id: 'o1', revenue: 39.98, products: [{ product_id: 'p1', price: 19.99, quantity: 2 }] })],
    [TRACK, 'Newsletter Signed Up', JSON.stringify({ source: 'footer', price: -1 })],
    [IDENTIFY, 'user-1', JSON.stringify({ plan: 'gold' })],
  ];
  for (const [op, text, json] of calls) assert.equal(t.run(op, text, json), '', `${text} was accepted`);
  // maxQueue 3: four events were dropped, and the next batch must report it
  const effects = JSON.parse(t.run(DRAIN, '', '', 1));
  const [id, body] = effects.send;
  const batch = JSON.parse(body);
  assert.equal(batch.batch.length, 3);
  assert.equal(batch.context.droppedEvents, 4);
  assertValid(body);
  // a 503, then the retry: the same valid body with the same report
  t.run(ANSWER, '', '', id, 503);
  const retry = JSON.parse(t.run(DRAIN, '', '', 1, 0, 1_795_592_999_000));
  assert.deepEqual(JSON.parse(retry.send[1]).batch, batch.batch);
  assertValid(retry.send[1]);
});

test('every item type and beacon body matches the schema, one by one', () => {
  const t = engine({ endpoint: '/v1/batch', writeKey: 'wk' });
  t.run(PAGE, '', '{}');
  t.run(TRACK, 'Cart Viewed', JSON.stringify({ cart_id: 'c1', products: [{ product_id: 'a', quantity: 3 }] }));
  t.run(IDENTIFY, 'u-2', '{}');
  const bodies = t.run(UNLOAD).split('\n');
  assert.equal(bodies.length, 1);
  assertValid(bodies[0]);
  const items = JSON.parse(bodies[0]).batch;
  assert.deepEqual(items.map((i) => i.type), ['page', 'track', 'identify']);
  const validateItem = new Ajv2020({ strict: false }).addSchema(schema).getSchema(`${schema.$id}#/$defs/item`);
  for (const item of items) assert.ok(validateItem(item), JSON.stringify(validateItem.errors));
});

test('the schema rejects what the engine refuses to send', () => {
  const bad = {
    batch: [{ type: 'track', event: 'Product Added', properties: { price: -1 }, anonymousId: 'a', messageId: 'm', timestamp: '2026-11-25T07:49:39.000Z', context: { library: { name: 'cartsense', version: '0.1.0' }, sessionId: 's', page: {} } }],
    sentAt: '2026-11-25T07:49:39.000Z',
    writeKey: '',
    context: { library: { name: 'cartsense', version: '0.1.0' } },
  };
  assert.equal(validate(bad), false, 'a product event without product_id and with a negative price');
});

test('a Session Summarized from the intelligence module matches the schema', async () => {
  const { initSync: initInsight, Insight } = await import('../../pkg/cartsense_insight.js');
  initInsight({ module: readFileSync(new URL('../../pkg/cartsense_insight_bg.wasm', import.meta.url)) });
  const options = JSON.stringify({ endpoint: '/v1/batch', writeKey: 'wk', currency: 'EUR', averageOrderValue: 50 });
  const insight = new Insight(options, '');
  const t = engine({ endpoint: '/v1/batch', writeKey: 'wk', currency: 'EUR' });
  const [OBSERVE, LEAVE] = [0, 2];
  const SUMMARY = 9;
  const at = 1_795_592_979_000;
  const phone = JSON.stringify({ product_id: 'p1', category: 'electronics.smartphone', brand: 'acme', price: 199, quantity: 1 });
  for (const [i, [event, props]] of [['', '{}'], ['Product Viewed', phone], ['Product Added', phone], ['Checkout Started', JSON.stringify({ products: [JSON.parse(phone)] })]].entries()) {
    assert.equal(insight.run(OBSERVE, 's-1', event, props, 0, at + i * 1000), '');
  }
  const summary = insight.run(LEAVE, '', '', '', 0, at + 60_000);
  assert.ok(summary, 'leaving makes a summary');
  t.run(SUMMARY, '', summary, 0, 0, at + 60_000);
  const body = t.run(UNLOAD).split('\n')[0];
  const item = JSON.parse(body).batch.at(-1);
  assert.equal(item.event, 'Session Summarized');
  assert.equal(item.messageId, 'ss-s-1');
  assertValid(body);
  assert.equal(validate({ ...JSON.parse(body), batch: [{ ...item, properties: { ...item.properties, intent: 2 } }] }), false, 'an intent above 1 is refused');
});

test('the prompt events the insight module returns match the schema, and a summary counts what was shown', async () => {
  // The build with the campaign engine, which a page with campaigns loads.
  const { initSync: initInsight, Insight } = await import('../../pkg/cartsense_insight_campaigns.js');
  initInsight({ module: readFileSync(new URL('../../pkg/cartsense_insight_campaigns_bg.wasm', import.meta.url)) });
  const [OBSERVE, LEAVE, DECIDE, OUTCOME, ATTRIBUTION] = [0, 2, 7, 8, 9];
  const SUMMARY = 9;
  const campaign = (id, holdout, code) => ({
    id, holdout, priority: holdout ? 1 : 0,
    trigger: { type: 'exit_intent', minSecondsOnPage: 1 },
    offer: { kind: 'percent', value: 10, code, title: '{discount} off {product}' },
  });
  const at = 1_795_592_979_000;
  const facts = (visitor) => JSON.stringify({ anonymousId: visitor, page: 'product', path: '/p/1', device: 'desktop', consent: 'granted', pageShownAt: at, lastInteraction: at });
  const t = engine({ endpoint: '/v1/batch', writeKey: 'wk', currency: 'EUR', flushAt: 500 });
  const track = (answer) => {
    const { event, properties } = JSON.parse(answer);
    assert.equal(t.run(TRACK, event, JSON.stringify(properties)), '', `${event} was accepted`);
    return { event, properties };
  };
  const phone = JSON.stringify({ product_id: 'p1', name: 'Phone', price: 200 });

  // treatment: a unique code the shell fetched, then shown, copied, clicked
  const shop = new Insight(JSON.stringify({ endpoint: '/v1/batch', campaigns: [campaign('exit-u', 0, { url: '/code' })] }), '');
  shop.run(OBSERVE, 's-1', 'Product Viewed', phone, 0, at);
  shop.run(OBSERVE, 's-1', 'Product Added', phone, 0, at);
  const decided = JSON.parse(shop.run(DECIDE, '', 'exit', facts('v-1'), 0, at + 2000));
  assert.equal(decided.prompt.title, '20 off Phone');
  assert.equal(decided.prompt.codeUrl, '/code');
  const shown = track(shop.run(OUTCOME, 'exit-u', 'shown', JSON.stringify({ code: 'UNIQ-1' }), 0, at + 2500));
  assert.deepEqual([shown.event, shown.properties.coupon, shown.properties.arm], ['Prompt Shown', 'UNIQ-1', 'treatment']);
  assert.equal(track(shop.run(OUTCOME, 'exit-u', 'copied', '', 0, at + 3000)).event, 'Coupon Copied');
  assert.equal(track(shop.run(OUTCOME, 'exit-u', 'clicked', '', 0, at + 3500)).event, 'Prompt Clicked');
  const attribution = JSON.parse(shop.run(ATTRIBUTION, '', '', '', 0, at + 60_000));
  assert.deepEqual(attribution, { campaign_id: 'exit-u', campaign_arm: 'treatment' });
  assert.equal(t.run(TRACK, 'Order Completed', JSON.stringify({ order_id: 'o1', revenue: 180, ...attribution })), '');
  const summary = shop.run(LEAVE, '', '', '', 0, at + 70_000);
  assert.equal(JSON.parse(summary).properties.prompts_shown, 1);
  t.run(SUMMARY, '', summary, 0, 0, at + 70_000);

  // holdout: nothing to show, Prompt Held Out at once
  const held = new Insight(JSON.stringify({ endpoint: '/v1/batch', campaigns: { campaigns: [campaign('exit-h', 1, 'SAVE10')] } }), '');
  held.run(OBSERVE, 's-2', '', '{}', 0, at);
  const heldOut = JSON.parse(held.run(DECIDE, '', 'exit', facts('v-2'), 0, at + 2000));
  assert.equal(heldOut.prompt, undefined);
  assert.equal(track(JSON.stringify(heldOut)).event, 'Prompt Held Out');

  const body = t.run(UNLOAD).split('\n')[0];
  const events = JSON.parse(body).batch.map((item) => item.event);
  assert.deepEqual(events, ['Prompt Shown', 'Coupon Copied', 'Prompt Clicked', 'Order Completed', 'Session Summarized', 'Prompt Held Out']);
  assertValid(body);
  const item = JSON.parse(body).batch[0];
  assert.equal(validate({ ...JSON.parse(body), batch: [{ ...item, properties: { ...item.properties, arm: 'control' } }] }), false, 'an unknown arm is refused');
});

test('the insight build without campaigns decides nothing, warns about campaigns, and writes the stored decision state back as it was', async () => {
  const { initSync: initInsight, Insight } = await import('../../pkg/cartsense_insight.js');
  initInsight({ module: readFileSync(new URL('../../pkg/cartsense_insight_bg.wasm', import.meta.url)) });
  const [OBSERVE, STATE, WARNINGS, DECIDE, OUTCOME, ATTRIBUTION, CAMPAIGNS] = [0, 4, 6, 7, 8, 9, 10];
  const prompts = '{"s":"s1","c":[["exit",1,0,1800000000000,0,86400000,1800000000000]],"n":[["exit",1800000001000]]}';
  const options = JSON.stringify({ endpoint: '/v1/batch', campaigns: [{ id: 'exit' }] });
  const insight = new Insight(options, `{"visitor":{"visits":1},"prompts":${prompts}}`);
  assert.match(JSON.parse(insight.run(WARNINGS, '', '', '', 0, 0))[0], /^campaigns: this build of the session intelligence has no campaign engine/);
  const at = 1_800_000_002_000;
  insight.run(OBSERVE, 's2', 'Product Added', '{"product_id":"p","price":10}', 0, at);
  for (const op of [DECIDE, OUTCOME, ATTRIBUTION, CAMPAIGNS]) assert.equal(insight.run(op, 'exit', 'exit', '{}', 0, at), '', `operation ${op}`);
  assert.ok(insight.run(STATE, '', '', '', 0, at).includes(`"prompts":${prompts}`), 'the decision state is kept verbatim');
  insight.free();
});
