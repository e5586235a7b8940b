// Scenario 1: browse, add to cart and leave. Every event the visit produced is stored exactly
// once, with the identity, session and page context it was made with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickstream, useDemo, WWW, openDemo, waitForDemo, watchPage, waitForItems, waitFor, settle, assertNoDuplicateIds,
  tracks, pages, summarize, TEST_TIMEOUT,
} from './harness.mjs';

const catalog = JSON.parse(readFileSync(join(WWW, 'catalog.json'), 'utf8'));
const FIRST = { id: '1004856', price: 130.76, category: 'electronics.smartphone' };

// A collector serving the demo, and a browser, for every test in this file.
const demo = useDemo();

test('browse, add to cart and leave: every event stored exactly once', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);

  // home → first product card → product page → Add to cart → cart page → leave
  await openDemo(page, demo.collector.url);
  const firstCard = page.locator('[data-cs-list] a.card').first();
  assert.equal(await firstCard.getAttribute('data-cs-product'), FIRST.id, 'the first card of the home page');
  await Promise.all([page.waitForURL(/\/product\.html\?id=1004856$/), firstCard.click()]);
  await waitForDemo(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitFor('#cart-count to show 1 after Add to cart', async () => (await page.locator('#cart-count').textContent()) == '1');
  await Promise.all([page.waitForURL(/\/cart\.html$/), page.locator('a.cart-link').click()]);
  await waitForDemo(page);
  await page.goto('about:blank');

  const homeLists = catalog.categories.map((c) => `home-${c.code}`);
  const expectedTotal = 3 /* page views */ + homeLists.length + 1 /* related list */ + 4; /* clicked, viewed, added, cart */
  await waitForItems(
    demo.collector.db,
    `the ${expectedTotal} events of the visit`,
    (items) => clickstream(items).length >= expectedTotal && tracks(items, 'Cart Viewed').length >= 1,
    { timeout: 20_000 },
  );
  // Whatever was still in the air (beacons, retries) has landed: the count holds for a while.
  const final = await settle(demo.collector.db);
  const detail = `stored: ${summarize(final)}\npage log: ${log.join('\n')}`;

  assertNoDuplicateIds(final);
  assert.equal(clickstream(final).length, expectedTotal, `exactly the visit's events, once each\n${detail}`);

  // page views, one per page, with their own path
  assert.equal(final.filter((i) => i.type == 'page').length, 3, detail);
  for (const path of ['/', '/product.html', '/cart.html']) {
    assert.equal(pages(final, path).length, 1, `one page view for ${path}\n${detail}`);
  }
  assert.equal(pages(final, '/product.html')[0].properties.search, `?id=${FIRST.id}`);

  // home lists each shelf once, with its list_id; the product page lists its related products
  const listed = tracks(final, 'Product List Viewed');
  assert.deepEqual(
    listed.filter((i) => i.context.page.path == '/').map((i) => i.properties.list_id).sort(),
    [...homeLists].sort(),
    `the home page's lists\n${detail}`,
  );
  const related = listed.filter((i) => i.context.page.path == '/product.html');
  assert.deepEqual(related.map((i) => i.properties.list_id), [`related-${FIRST.category}`], detail);
  const firstList = listed.find((i) => i.properties.list_id == homeLists[0]);
  assert.equal(String(firstList.properties.products[0].product_id), FIRST.id);
  assert.equal(firstList.properties.products[0].position, 1);

  const [clicked] = tracks(final, 'Product Clicked');
  assert.equal(String(clicked.properties.product_id), FIRST.id);
  assert.equal(clicked.properties.list_id, homeLists[0]);
  assert.equal(clicked.properties.position, 1);
  assert.equal(clicked.context.page.path, '/');

  const [viewed] = tracks(final, 'Product Viewed');
  assert.equal(String(viewed.properties.product_id), FIRST.id);
  assert.equal(viewed.properties.price, FIRST.price);
  assert.equal(viewed.context.page.path, '/product.html');

  const [added] = tracks(final, 'Product Added');
  assert.equal(String(added.properties.product_id), FIRST.id);
  assert.equal(added.properties.quantity, 1);
  assert.equal(added.properties.price, FIRST.price);
  assert.equal(added.context.page.path, '/product.html');

  const [cart] = tracks(final, 'Cart Viewed');
  assert.equal(cart.context.page.path, '/cart.html');
  assert.ok(cart.properties.cart_id, 'Cart Viewed has the cart_id');
  assert.deepEqual(
    cart.properties.products.map((p) => [String(p.product_id), p.quantity, p.price]),
    [[FIRST.id, 1, FIRST.price]],
    'Cart Viewed lists the added product',
  );

  // every item: ids, time, library, one visitor and one session
  const anonymousIds = new Set(final.map((i) => i.anonymousId));
  const sessionIds = new Set(final.map((i) => i.context?.sessionId));
  assert.equal(anonymousIds.size, 1, `one anonymousId for the visit: ${[...anonymousIds]}`);
  assert.equal(sessionIds.size, 1, `one sessionId for the visit: ${[...sessionIds]}`);
  for (const item of final) {
    const where = `${item.type} ${item.event || item.context?.page?.path}`;
    assert.match(item.messageId, /^[A-Za-z0-9._-]{1,64}$/, `${where}: messageId`);
    assert.match(item.anonymousId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${where}: anonymousId`);
    assert.ok(!Number.isNaN(Date.parse(item.timestamp)), `${where}: timestamp ${item.timestamp}`);
    assert.ok(!Number.isNaN(Date.parse(item.receivedAt)), `${where}: receivedAt ${item.receivedAt}`);
    assert.equal(item.context?.library?.name, 'cartsense', `${where}: context.library.name`);
    assert.ok(item.context?.sessionId, `${where}: context.sessionId`);
  }
  await context.close();
});

test('the demo clamps typed quantities: Enter in the quantity field adds a valid quantity, never an invalid event', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);
  await openDemo(page, `${demo.collector.url}product.html?id=${FIRST.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  // Typed, then Enter (no blur, so no change event): the shop adds at once.
  for (const [typed, added] of [['2.5', 2], ['-3', 1], ['0', 1], ['250', 99]]) {
    await page.locator('#qty').fill(typed);
    await page.locator('#qty').press('Enter');
    await waitFor(`#qty to read ${added} after typing ${typed} and Enter`, async () => (await page.locator('#qty').inputValue()) == String(added));
  }
  // In the cart: a quantity typed there is clamped too, and the line removed with it.
  await openDemo(page, `${demo.collector.url}cart.html`);
  const input = page.locator('.qty-input').first();
  await input.fill('-4');
  await input.press('Tab'); // change
  await waitFor('the cart quantity to read 1', async () => (await input.inputValue()) == '1');
  assert.match(await page.locator('.sum').textContent(), /Subtotal \(1 item\)/, 'the summary follows the clamped quantity');
  await page.getByRole('button', { name: 'Remove' }).click();
  await page.evaluate(() => window.cartsense.flush());
  const mine = (all, event) => tracks(all, event).filter((item) => item.anonymousId == visitor);
  await waitForItems(demo.collector.db, 'four Product Added and a Product Removed', (all) =>
    mine(all, 'Product Added').length >= 4 && mine(all, 'Product Removed').length >= 1,
  );
  const final = await settle(demo.collector.db);
  const detail = `page log: ${log.join('\n')}`;
  assert.deepEqual(mine(final, 'Product Added').map((item) => item.properties.quantity), [2, 1, 1, 99], detail);
  assert.deepEqual(mine(final, 'Product Removed').map((item) => item.properties.quantity), [1], detail);
  assert.deepEqual(log.filter((line) => line.includes('cartsense')), [], `no autocapture warning\n${detail}`);
  await context.close();
});
