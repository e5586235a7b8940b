// Beyond the brief's scenarios: checkout and the order confirmation. The order is counted once,
// even when the confirmation page is reloaded (the tracker remembers the order_id).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo, openDemo, waitForDemo, watchPage, waitForItems, waitFor, settle, assertNoDuplicateIds, tracks,
  pages, summarize, flushPage, TEST_TIMEOUT,
} from './harness.mjs';

/** The intelligence module loads after the first event; wait for it. */
const insightReady = (page) => page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });

const PRODUCT = { id: '1004856', price: 130.76 };

// A collector serving the demo, and a browser, for every test in this file.
const demo = useDemo();

test('checkout: Checkout Started, then Order Completed once, even after a reload', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);

  await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitFor('#cart-count to show 1', async () => (await page.locator('#cart-count').textContent()) == '1');
  await openDemo(page, `${demo.collector.url}checkout.html`);
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill('ada@example.com');
  await Promise.all([page.waitForURL(/\/order\.html\?id=/), page.getByRole('button', { name: 'Place order' }).click()]);
  await waitForDemo(page);
  const orderId = await page.locator('#order-id').textContent();
  await flushPage(page);
  await page.reload({ waitUntil: 'load' });
  await waitForDemo(page);
  await flushPage(page);
  await page.goto('about:blank');

  await waitForItems(demo.collector.db, 'two page views of the order page', (items) => pages(items, '/order.html').length >= 2);
  const items = await settle(demo.collector.db);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(items);

  const [started, ...moreStarted] = tracks(items, 'Checkout Started');
  assert.equal(moreStarted.length, 0, `one Checkout Started\n${detail}`);
  assert.equal(started.properties.value, PRODUCT.price);
  assert.deepEqual(started.properties.products.map((p) => [String(p.product_id), p.quantity]), [[PRODUCT.id, 1]]);

  const completed = tracks(items, 'Order Completed');
  assert.equal(completed.length, 1, `one Order Completed although the confirmation was loaded twice\n${detail}`);
  const order = completed[0].properties;
  assert.equal(order.order_id, orderId);
  assert.equal(order.revenue, PRODUCT.price);
  assert.equal(order.subtotal, PRODUCT.price);
  // The demo's rules (shop.js): free shipping from $100, 8% tax.
  const shipping = PRODUCT.price >= 100 ? 0 : 7.99;
  const tax = Math.round(PRODUCT.price * 100 * 0.08) / 100;
  assert.equal(order.shipping, shipping);
  assert.equal(order.tax, tax);
  assert.equal(order.total, Math.round((PRODUCT.price + shipping + tax) * 100) / 100, 'total = subtotal + shipping + tax');
  assert.equal(order.currency, 'USD');
  assert.deepEqual(order.products.map((p) => [String(p.product_id), p.quantity, p.price]), [[PRODUCT.id, 1, PRODUCT.price]]);
  assert.equal(pages(items, '/order.html').length, 2, `the reload is a page view, not an order\n${detail}`);
  await context.close();
});

test('checkout by clicks: the order form navigating is a move inside the shop, one Session Summarized for the visit', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);

  await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitFor('#cart-count to show 1', async () => (await page.locator('#cart-count').textContent()) == '1');
  await Promise.all([page.waitForURL(/\/cart\.html/), page.locator('a.cart-link').click()]);
  await waitForDemo(page);
  await Promise.all([page.waitForURL(/\/checkout\.html/), page.getByRole('link', { name: 'Checkout', exact: true }).click()]);
  await waitForDemo(page);
  // Ready, so that a submit wrongly taken for leaving would make a summary here.
  await insightReady(page);
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill('ada@example.com');
  // The shop's submit handler prevents the default and navigates itself (location.assign).
  await Promise.all([page.waitForURL(/\/order\.html\?id=/), page.getByRole('button', { name: 'Place order' }).click()]);
  await waitForDemo(page);
  await insightReady(page);
  await page.close({ runBeforeUnload: true }); // the visitor leaves: now the summary

  const mine = (all) => all.filter((item) => item.anonymousId == visitor);
  await waitForItems(demo.collector.db, 'the visit\'s Session Summarized', (all) => tracks(mine(all), 'Session Summarized').length >= 1);
  const items = mine(await settle(demo.collector.db));
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(items);
  assert.equal(tracks(items, 'Order Completed').length, 1, detail);
  const summaries = tracks(items, 'Session Summarized');
  assert.equal(summaries.length, 1, `one Session Summarized for the session, made when the visitor left\n${detail}`);
  const [summary] = summaries;
  assert.equal(summary.properties.revision, 0, detail);
  assert.equal(summary.properties.ordered, true, `the summary covers the order\n${detail}`);
  assert.equal(summary.properties.checkout_reached, true, detail);
  await context.close();
});
