// Scenario 6: consent. While pending, nothing is sent and nothing is written to storage; the
// banner's Accept releases what was held. Denied sends nothing, ever, and clears what
// cartsense had stored (and only that).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickstream, REPO, WWW, demoWithoutModel, startStaticServer, requireBuilt, startCollector, launchBrowser, openDemo, watchPage, waitForItems, waitFor, settle,
  assertNoDuplicateIds, assertNothingStoredFor, tracks, pages, summarize, storedKeys, pendingOf,
  recordBatchRequests, flushPage, TEST_TIMEOUT,
} from './harness.mjs';

const catalog = JSON.parse(readFileSync(join(WWW, 'catalog.json'), 'utf8'));
// The demo sends a batch at the latest flushInterval (2000 ms) after an event; watching for
// longer than that is what "nothing was sent" can mean.
const LONGER_THAN_FLUSH_INTERVAL = 3000;

let browser;
before(async () => {
  requireBuilt();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close().catch(() => {});
});

test('consent pending: nothing sent or stored until Accept, then the held events arrive', TEST_TIMEOUT, async () => {
  const collector = await startCollector({ www: demoWithoutModel() });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const log = watchPage(page);
    const batches = recordBatchRequests(page);
    await openDemo(page, collector.url + '?consent=pending');
    const held = 1 + catalog.categories.length; // the page view and a Product List Viewed per shelf
    assert.equal(await pendingOf(page), held, 'the page view and the lists are held in memory');

    // flush() would send now if consent allowed it; then watch past the flush interval.
    await flushPage(page);
    await assertNothingStoredFor(collector.db, LONGER_THAN_FLUSH_INTERVAL, 'consent is pending');
    assert.equal(batches.length, 0, 'no request to /v1/batch while consent is pending');
    assert.deepEqual(await storedKeys(page), [], 'no cartsense.* key in localStorage while consent is pending');

    await page.getByRole('button', { name: 'Accept' }).click();
    await waitForItems(collector.db, `the ${held} held events after Accept`, (items) => clickstream(items).length >= held);
    await waitFor('window.cartsense.pending to reach 0 after Accept', async () => (await pendingOf(page)) === 0);
    const final = await settle(collector.db);
    const detail = `stored: ${summarize(final)}\npage log: ${log.join('\n')}`;
    assertNoDuplicateIds(final);
    assert.equal(clickstream(final).length, held, `the held events, once each\n${detail}`);
    assert.equal(pages(final, '/').length, 1, detail);
    assert.equal(tracks(final, 'Product List Viewed').length, catalog.categories.length, detail);
    // Granted: identity is persisted now.
    assert.ok((await storedKeys(page)).includes('cartsense.aid'), 'cartsense.aid is written once consent is granted');
    await context.close();
  } finally {
    await collector.stop();
  }
});

test('consent denied: stored cartsense.* keys are cleared and nothing is ever sent', TEST_TIMEOUT, async () => {
  const collector = await startCollector({ www: demoWithoutModel() });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const log = watchPage(page);
    const batches = recordBatchRequests(context);

    // Seed what an earlier, consenting visit would have left: identity, a visitor record, and
    // a queued event that a careless tracker would send on start.
    await page.goto(collector.url + 'favicon.svg');
    const seeded = await page.evaluate(() => {
      const item = {
        type: 'track',
        event: 'Seeded Before Denial',
        properties: {},
        anonymousId: '8f1d1f52-7c1e-4a8e-9d7e-0c2b8e1f6a11',
        messageId: '0seed00000000-AAAAAAAAAAAAAAAA',
        timestamp: new Date().toISOString(),
        context: { library: { name: 'cartsense', version: '0.1.0' }, sessionId: 's' },
      };
      localStorage.setItem('cartsense.aid', item.anonymousId);
      localStorage.setItem('cartsense.uid', 'user-1');
      localStorage.setItem('cartsense.q.' + item.messageId, JSON.stringify(item));
      localStorage.setItem('demo.cart', '[]'); // the shop's own key, not cartsense's to clear
      return Object.keys(localStorage).sort();
    });
    assert.deepEqual(seeded, ['cartsense.aid', 'cartsense.q.0seed00000000-AAAAAAAAAAAAAAAA', 'cartsense.uid', 'demo.cart']);

    await openDemo(page, collector.url + 'product.html?id=1004856&consent=denied');
    assert.deepEqual(await storedKeys(page), [], 'every cartsense.* key is cleared on init with consent denied');
    assert.equal(await page.evaluate(() => localStorage.getItem('demo.cart') != null), true, "the shop's own key is kept");

    // Interact, flush, leave: still nothing.
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await waitFor('#cart-count to show 1', async () => (await page.locator('#cart-count').textContent()) == '1');
    assert.equal(await pendingOf(page), 0, 'nothing is queued while consent is denied');
    await flushPage(page);
    await page.goto('about:blank'); // pagehide: no beacon either
    await assertNothingStoredFor(collector.db, LONGER_THAN_FLUSH_INTERVAL, 'consent is denied');
    assert.equal(batches.length, 0, `no request to /v1/batch while consent is denied\npage log: ${log.join('\n')}`);
    await page.goto(collector.url + 'favicon.svg');
    assert.deepEqual(await storedKeys(page), [], 'no cartsense.* key written afterwards');
    await context.close();
  } finally {
    await collector.stop();
  }
});

// The session intelligence remembers a visitor's interests across visits (cartsense.insight).
// A visitor who denies consent, or a page that keeps nothing (storage: 'memory'), must start
// from nothing: what an earlier, consenting visit left is never read into profile().
for (const [setting, query] of [
  ['consent denied', 'consent=denied'],
  ["storage: 'memory'", 'storage=memory'],
]) {
  test(`${setting}: earlier interests do not show up in profile()`, TEST_TIMEOUT, async () => {
    const collector = await startCollector({ www: demoWithoutModel() });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const log = watchPage(page);
      const product = catalog.products[0];
      await openDemo(page, `${collector.url}product.html?id=${product.id}`);
      await page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });
      // The consenting visit's interests are stored (at the latest a second after the view).
      await waitFor('the earlier visit to store its interests in cartsense.insight', () =>
        page.evaluate((id) => (localStorage.getItem('cartsense.insight') || '').includes(id), product.id),
      );
      const earlier = await page.evaluate(() => window.cartsense.profile());
      assert.equal(earlier.interests.products[0]?.key, product.id, 'the consenting visit has the product as an interest');

      await openDemo(page, `${collector.url}cart.html?${query}`);
      await page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });
      const profile = await page.evaluate(() => window.cartsense.profile());
      const detail = `profile: ${JSON.stringify(profile)}\npage log: ${log.join('\n')}`;
      for (const dimension of ['categories', 'brands', 'products', 'priceBands']) {
        assert.deepEqual(profile.interests[dimension], [], `no earlier ${dimension} in the profile\n${detail}`);
      }
      assert.equal(profile.segment.visitor, 'new', `no visit history either\n${detail}`);
      await context.close();
    } finally {
      await collector.stop();
    }
  });
}

test('consent denied before the intelligence has loaded forgets the session, even with its backlog full', TEST_TIMEOUT, async () => {
  const collector = await startCollector({ www: demoWithoutModel() });
  const site = await startStaticServer(REPO, { proxyBatchTo: collector.port });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    // The intelligence's wasm is held back until the denial: every event waits in the backlog.
    let release;
    const held = new Promise((resolve) => (release = resolve));
    await page.route('**/cartsense_insight_bg.wasm', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(site.origin + '/tests/e2e/fixtures/blank.html', { waitUntil: 'load' });
    await page.evaluate(async () => {
      const { init } = await import('/pkg/index.js');
      window.tracker = await init({ endpoint: '/v1/batch', storage: 'memory', flushInterval: 200 });
      for (let i = 0; i < 1000; i++) window.tracker.track('Product Viewed', { product_id: 'p' + i, category: 'shoes' });
      window.tracker.track('Product Added', { product_id: 'p1', price: 5, quantity: 1 });
      window.tracker.setConsent('denied');
    });
    release();
    await page.waitForFunction(() => window.tracker.profile() != null, null, { timeout: 15_000 });
    const profile = await page.evaluate(() => window.tracker.profile());
    assert.deepEqual(profile.interests.products, [], 'the viewed products are forgotten');
    assert.deepEqual(profile.cart.items, [], 'the cart is forgotten');
  } finally {
    await context.close().catch(() => {});
    await site.close();
    await collector.stop();
  }
});
