// Session intelligence end to end: a scripted visit on the demo (views, a cart add, then the
// tab hidden) makes the collector store exactly one `Session Summarized` whose figures match
// the visit; with mode: 'summary', nothing else from the visit is stored but identify calls.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo, openDemo, waitForDemo, waitForItems, waitFor, settle, assertNoDuplicateIds, tracks, summarize, TEST_TIMEOUT,
} from './harness.mjs';

const demo = useDemo();
const FIRST = { id: '1004856', price: 130.76 };

/** The intelligence module loads after the first event; wait for it before leaving. */
const insightReady = (page) => page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });

/** The tab is hidden, as when the visitor switches away: the document reports itself hidden. */
const hideTab = (page) =>
  page.evaluate(() => {
    Object.defineProperty(document, 'hidden', { value: true, configurable: true });
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  });

test('a visit, then the tab hidden: one Session Summarized whose figures match the visit', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, demo.collector.url);
  await insightReady(page);
  // a click on a product card: a move inside the shop, not leaving, so no summary for it
  await page.locator(`[data-cs-list] a[data-cs-product="${FIRST.id}"]`).first().click();
  await waitForDemo(page);
  await insightReady(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitFor('the cart badge to show 1', async () => (await page.locator('#cart-count').textContent()) == '1');
  const profile = await page.evaluate(() => window.cartsense.profile());
  assert.equal(profile.cart.value, FIRST.price, 'the profile sees the cart');
  assert.ok(profile.intent > 0 && profile.intent < 1 && profile.abandonment > 0 && profile.abandonment < 1);
  assert.equal(profile.interests.products[0].key, FIRST.id, 'the product viewed and added leads the interests');
  await hideTab(page);
  await page.evaluate(() => window.cartsense.flush());

  const items = await waitForItems(demo.collector.db, 'the Session Summarized', (all) => tracks(all, 'Session Summarized').length >= 1);
  const final = await settle(demo.collector.db);
  assertNoDuplicateIds(final);
  const summaries = tracks(final, 'Session Summarized');
  assert.equal(summaries.length, 1, `exactly one summary: ${summarize(final)}`);
  const [summary] = summaries;
  const sessionId = items.find((i) => i.type == 'page').context.sessionId;
  assert.equal(summary.messageId, `ss-${sessionId}`, 'its message id derives from the session id');
  assert.equal(summary.context.sessionId, sessionId);
  const p = summary.properties;
  const expected = {
    session_id: sessionId,
    revision: 0,
    pages: 2,
    product_views: 1,
    distinct_products: 1,
    distinct_categories: 1,
    cart_adds: 1,
    cart_removes: 0,
    cart_value: FIRST.price,
    cart_items: 1,
    currency: 'USD',
    checkout_reached: false,
    ordered: false,
    prompts_shown: 0,
  };
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(p[key], value, `summary.${key}`);
  assert.equal(p.top_products[0], FIRST.id);
  assert.deepEqual(p.top_categories.slice(0, 2), ['electronics', 'electronics.smartphone']);
  assert.ok(p.abandonment > 0 && p.abandonment <= p.abandonment_peak, 'abandonment at the end, at most its peak');
  assert.ok(p.intent >= 0 && p.intent <= p.intent_peak);
  assert.ok(p.duration_seconds >= 0 && p.visible_seconds <= p.duration_seconds + 1);
  assert.equal(p.segment.visitor, 'new');
  // every other event of the visit is there too, once
  assert.equal(tracks(final, 'Product Added').length, 1);
  await context.close();
});

test("mode: 'summary' stores nothing from the visit but identify calls and the summary", TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, `${demo.collector.url}product.html?id=${FIRST.id}&mode=summary`);
  await insightReady(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.evaluate(() => window.cartsense.identify('customer-7', { plan: 'gold' }));
  await page.evaluate(() => window.cartsense.track('Newsletter Signed Up', { source: 'footer' }));
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  await hideTab(page);
  await page.evaluate(() => window.cartsense.flush());
  // the collector also holds the first test's visit: this one is its own visitor
  const mine = (all) => all.filter((item) => item.anonymousId == visitor);
  await waitForItems(demo.collector.db, 'the identify call and the summary', (all) => mine(all).length >= 2);
  const final = mine(await settle(demo.collector.db));
  const kinds = final.map((item) => (item.type == 'track' ? item.event : item.type)).sort();
  assert.deepEqual(kinds, ['Session Summarized', 'identify'], `only these: ${summarize(final)}`);
  const summary = tracks(final, 'Session Summarized')[0].properties;
  assert.equal(summary.product_views, 1, 'the summary still counts what the page saw');
  assert.equal(summary.cart_adds, 1);
  assert.equal(summary.cart_value, FIRST.price);
  await context.close();
});
