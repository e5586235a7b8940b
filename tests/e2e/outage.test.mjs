// Scenario 2: the collector goes down mid-visit and comes back. The shop is served by a static
// server of its own that forwards /v1/batch to the collector (and cuts the connection while
// the collector is down, so the page sees a network error), so pages keep loading during the
// outage. Everything tracked arrives after the restart, nothing twice.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickstream, WWW, requireBuilt, startCollector, startStaticServer, launchBrowser, openDemo, waitForDemo, watchPage,
  waitForItems, waitFor, settle, assertNoDuplicateIds, tracks, pages, summarize, storedKeys, pendingOf,
  TEST_TIMEOUT,
} from './harness.mjs';

const catalog = JSON.parse(readFileSync(join(WWW, 'catalog.json'), 'utf8'));
const OTHER_CATEGORY = 'computers.notebook';

let collector, shop, browser;
before(async () => {
  requireBuilt();
  collector = await startCollector();
  shop = await startStaticServer(WWW, { proxyBatchTo: collector.port });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close().catch(() => {});
  await shop?.close();
  await collector?.stop();
});

test('collector down, then back: everything tracked arrives once, the shop keeps working', TEST_TIMEOUT, async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);
  const { db, port } = collector;

  // Up: the home page's events are delivered.
  await openDemo(page, shop.origin + '/');
  const homeLists = catalog.categories.length;
  await waitForItems(db, "the home page's events while the collector is up", (items) => clickstream(items).length == 1 + homeLists);

  // Down: SIGTERM, then keep browsing.
  const stopped = Date.now();
  const exit = await collector.stop();
  t.diagnostic(`collector stopped in ${Date.now() - stopped} ms (${JSON.stringify(exit)})`);
  assert.equal(exit.code, 0, `the collector exits cleanly on SIGTERM: ${collector.stderr()}`);

  const firstCard = page.locator('[data-cs-list] a.card').first();
  const productId = await firstCard.getAttribute('data-cs-product');
  await Promise.all([page.waitForURL(/\/product\.html\?id=/), firstCard.click()]);
  await waitForDemo(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitFor('#cart-count to show 1 during the outage', async () => (await page.locator('#cart-count').textContent()) == '1');
  await Promise.all([page.waitForURL(/\/cart\.html$/), page.locator('a.cart-link').click()]);
  await waitForDemo(page);
  assert.equal(await page.locator('[data-cs-cart] [data-cs-product]').count(), 1, 'the cart page shows the added product');
  await Promise.all([
    page.waitForURL(/\/category\.html/),
    page.locator(`.cat-nav a[href="category.html?c=${encodeURIComponent(OTHER_CATEGORY)}"]`).click(),
  ]);
  await waitForDemo(page);

  // What the page holds: every event of the outage is waiting, in memory and in localStorage.
  const expectedWaiting = 1 /* Product Clicked */ + 4 /* product page */ + 2 /* cart page */ + 2; /* category page */
  const waiting = await pendingOf(page);
  assert.ok(waiting >= expectedWaiting, `pending during the outage: ${waiting}, expected at least ${expectedWaiting}`);
  const queuedKeys = (await storedKeys(page)).filter((key) => key.startsWith('cartsense.q.'));
  assert.ok(queuedKeys.length >= expectedWaiting, `cartsense.q.* keys during the outage: ${queuedKeys.length}`);
  const queuedIds = queuedKeys.map((key) => key.slice('cartsense.q.'.length));

  // Back: same port, same database.
  collector = await startCollector({ port, db });
  const restarted = Date.now();
  const expectedTotal = 1 + homeLists + expectedWaiting;
  await waitForItems(db, `all ${expectedTotal} events after the restart`, (items) => clickstream(items).length >= expectedTotal, {
    timeout: 45_000,
  });
  await waitFor('window.cartsense.pending to reach 0 after the restart', async () => (await pendingOf(page)) === 0, {
    timeout: 45_000,
  });
  t.diagnostic(`recovered ${Date.now() - restarted} ms after the restart`);
  await waitFor('the cartsense.q.* keys to be removed once acknowledged', async () =>
    (await storedKeys(page)).every((key) => !key.startsWith('cartsense.q.')),
  );

  const items = await settle(db);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(items);
  assert.equal(clickstream(items).length, expectedTotal, `exactly the visit's events, once each\n${detail}`);
  const stored = new Set(items.map((item) => item.messageId));
  assert.deepEqual(queuedIds.filter((id) => !stored.has(id)), [], 'every event queued during the outage is stored');

  for (const path of ['/', '/product.html', '/cart.html', '/category.html']) {
    assert.equal(pages(items, path).length, 1, `one page view for ${path}\n${detail}`);
  }
  assert.equal(tracks(items, 'Product Clicked', (p) => String(p.product_id) == productId).length, 1, detail);
  assert.equal(tracks(items, 'Product Viewed', (p) => String(p.product_id) == productId).length, 1, detail);
  assert.equal(tracks(items, 'Product Added', (p) => String(p.product_id) == productId && p.quantity == 1).length, 1, detail);
  assert.equal(tracks(items, 'Cart Viewed', (p) => p.products?.length == 1).length, 1, detail);
  assert.equal(tracks(items, 'Product List Viewed', (p) => p.list_id == `category-${OTHER_CATEGORY}`).length, 1, detail);
  assert.equal(new Set(items.map((item) => item.anonymousId)).size, 1, 'one visitor throughout');
  await context.close();
});
