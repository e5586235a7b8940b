// Merchant campaigns in the demo shop, end to end (issue 5): the engine in the insight module
// decides, the shell shows the default prompt UI, and the collector stores what happened. Each
// test serves its own campaign document in place of the demo's /campaigns.json (a route in the
// browser context), so the shop and the tracker are exactly what a merchant ships.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo, openDemo, openBlankPage, watchPage, waitFor, waitForItems, settle, tracks, pages, summarize, sleep, flushPage,
  assertNoDuplicateIds, exportItems, TEST_TIMEOUT, COLLECTOR_BIN,
} from './harness.mjs';
import { spawnSync } from 'node:child_process';

const demo = useDemo();

// Casio Watch 21401211 at $82.37 (www/catalog.json); shipping is free from $100 (www/shop.js).
const WATCH = { id: '21401211', price: 82.37, name: 'Casio Watch 21401211' };
const PHONE = { id: '1004856', price: 130.76, name: 'Samsung Smartphone 1004856' };
const INJECTION = '<img src=x onerror=alert(1)>';

/** An exit-intent coupon for a non-empty cart, as a merchant would write it (no wait on the
 * page, so that the test need not sit through the default 5 s). */
const exitCoupon = (overrides = {}) => ({
  id: 'exit-coupon',
  priority: 10,
  trigger: { type: 'exit_intent', minSecondsOnPage: 0 },
  eligibility: { minCartValue: 1 },
  offer: {
    kind: 'percent', value: 10, code: 'STAY10', marginFloor: 20,
    title: 'Still thinking about {product}?', message: 'Take 10% off your cart with code {code}.',
  },
  caps: { perSession: 1 },
  holdout: 0,
  ...overrides,
});

/** A spend-threshold nudge for the watch: it fires on the Product Added event itself. */
const nudge = (overrides = {}) => ({
  id: 'shipping-nudge',
  trigger: { type: 'spend_threshold', threshold: 100, within: 30 },
  offer: { kind: 'free_shipping', value: 7.99, code: 'SHIPFREE', title: 'Add ${toThreshold} more for free shipping' },
  holdout: 0,
  ...overrides,
});

/** A fresh browser context whose /campaigns.json is `campaigns`; closed after the test.
 * `catalog` edits the demo catalogue the pages see. */
async function openShop(t, campaigns, { catalog } = {}) {
  const context = await demo.browser.newContext({ viewport: { width: 1200, height: 800 } });
  t.after(() => context.close().catch(() => {}));
  await context.route('**/campaigns.json', (route) => route.fulfill({ json: { campaigns } }));
  if (catalog) {
    await context.route('**/catalog.json', async (route) => {
      const response = await route.fetch();
      route.fulfill({ response, json: catalog(await response.json()) });
    });
  }
  // Layout shifts, for the CLS check; an alert from injected markup would be recorded too.
  await context.addInitScript(() => {
    window.layoutShifts = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.layoutShifts.push([entry.startTime, entry.value]);
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const page = await context.newPage();
  const log = watchPage(page);
  const dialogs = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  return { context, page, log, dialogs };
}

/** Opens a demo page and waits until its campaigns are in the engine: the document fetched
 * after the intelligence module loaded, and handed over. */
async function openWithCampaigns(page, path) {
  const fetched = page.waitForResponse((response) => response.url().endsWith('/campaigns.json'), { timeout: 15_000 });
  await openDemo(page, demo.collector.url + path);
  await fetched;
  await page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });
  await sleep(200); // the response's body read and handed to the engine
}

async function addToCart(page, count) {
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await waitFor(`#cart-count to show ${count}`, async () => (await page.locator('#cart-count').textContent()) == String(count));
}

/** The pointer leaves the window through its top edge, as a visitor heading for the tabs does. */
async function exitThroughTop(page) {
  await page.mouse.move(600, 300);
  await page.mouse.move(600, 4, { steps: 4 });
  await page.mouse.move(600, -5); // Chromium: mouseout with no relatedTarget, as the pointer leaves
}

/** The prompt on screen: null when there is none. */
const promptOnScreen = (page) =>
  page.evaluate(() => {
    const host = document.querySelector('cartsense-prompt');
    const dialog = host?.shadowRoot.querySelector('dialog');
    if (!dialog?.open) return null;
    const text = (part) => host.shadowRoot.querySelector(`[part=${part}]`)?.textContent ?? null;
    return {
      title: text('title'),
      message: text('message'),
      code: text('code'),
      elements: [...host.shadowRoot.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
    };
  });

const waitForPrompt = (page, what) => waitFor(what, () => promptOnScreen(page), { timeout: 10_000 });

/** A negative check: no prompt appears within `ms`. */
async function assertNoPromptFor(page, ms, why) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    assert.equal(await promptOnScreen(page), null, why);
    await sleep(100);
  }
}

/** What has focus, looking into shadow roots: the prompt's part name, or the element's text. */
const focused = (page) =>
  page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    return element?.getAttribute('part') || element?.getAttribute('data-cs-add') != null && 'add-to-cart' || element?.tagName;
  });

const mine = (items, visitor) => items.filter((item) => item.anonymousId == visitor);

async function checkout(page) {
  await openDemo(page, demo.collector.url + 'checkout.html');
  await page.getByLabel('Name').fill('Ada Lovelace');
  await page.getByLabel('Email').fill('ada@example.com');
  await Promise.all([page.waitForURL(/\/order\.html\?id=/), page.getByRole('button', { name: 'Place order' }).click()]);
  await page.waitForFunction(() => document.documentElement.dataset.tracker, null, { timeout: 15_000 });
}

test('exit intent with a cart shows the coupon once, not again on the next page, and shifts no layout', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openShop(t, [exitCoupon()]);
  const promptUi = [];
  page.on('request', (request) => request.url().endsWith('/prompt.js') && promptUi.push(request.url()));
  await openWithCampaigns(page, `product.html?id=${PHONE.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);

  await exitThroughTop(page);
  await assertNoPromptFor(page, 800, `an empty cart is not eligible (log: ${log.join('\n')})`);

  await addToCart(page, 1);
  assert.deepEqual(promptUi, [], 'the prompt UI is not loaded before a prompt is about to show');
  const before = await page.evaluate(() => performance.now());
  await exitThroughTop(page);
  const prompt = await waitForPrompt(page, 'the exit-intent coupon');
  assert.equal(prompt.title, `Still thinking about ${PHONE.name}?`);
  assert.equal(prompt.message, 'Take 10% off your cart with code STAY10.');
  assert.equal(prompt.code, 'STAY10');
  await sleep(500); // the entrance animation (0.2 s) is over
  const shifts = await page.evaluate((since) => window.layoutShifts.filter(([at]) => at >= since), before);
  assert.deepEqual(shifts, [], 'no layout shift while the prompt opens');

  await page.evaluate(() => document.querySelector('cartsense-prompt').shadowRoot.querySelector('[part=close]').click());
  await waitFor('the prompt to close', async () => (await promptOnScreen(page)) == null);

  // The next page: the same session, and its cap of one is spent.
  await Promise.all([page.waitForURL(/\/cart\.html/), page.locator('a.cart-link').click()]);
  await openWithCampaigns(page, 'cart.html');
  await exitThroughTop(page);
  await assertNoPromptFor(page, 1500, 'the coupon shows once per session');
  await flushPage(page);

  const items = mine(await settle(demo.collector.db), visitor);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(items);
  const shown = tracks(items, 'Prompt Shown');
  assert.equal(shown.length, 1, `one Prompt Shown\n${detail}`);
  assert.equal(shown[0].properties.campaign_id, 'exit-coupon');
  assert.equal(shown[0].properties.arm, 'treatment');
  assert.equal(shown[0].properties.trigger, 'exit_intent');
  assert.equal(shown[0].properties.coupon, 'STAY10');
  assert.ok(shown[0].properties.cart_value > 0, `the decision carries the cart it saw\n${detail}`);
  assert.equal(tracks(items, 'Prompt Dismissed').length, 1, detail);
  assert.equal(tracks(items, 'Prompt Held Out').length, 0, detail);
  assert.equal(pages(items, '/cart.html').length, 1, `the shop went on working\n${detail}`);
});

test('a prompt a single-page app re-renders away frees the budget: the next exit shows it again, with no dismissal', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openShop(t, [exitCoupon({ caps: { perSession: 2, cooldownAfterDismissSeconds: 3600 } })]);
  await openWithCampaigns(page, `product.html?id=${PHONE.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  await addToCart(page, 1);
  await exitThroughTop(page);
  await waitForPrompt(page, 'the exit-intent coupon');

  // The app navigates: it replaces the page's content, the prompt's element with it.
  await page.evaluate(() => {
    document.querySelector('cartsense-prompt').remove();
    history.pushState(null, '', '/cart.html');
    window.cartsense.page();
  });
  await exitThroughTop(page);
  await waitForPrompt(page, 'the coupon again (its cap is two a session, and no dismissal cool-down started)');
  await flushPage(page);

  const items = mine(await settle(demo.collector.db), visitor);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assert.equal(tracks(items, 'Prompt Shown').length, 2, detail);
  assert.equal(tracks(items, 'Prompt Dismissed').length, 0, `the visitor dismissed nothing\n${detail}`);
});

test('Order Completed after a shown prompt carries campaign_id and campaign_arm', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openShop(t, [exitCoupon()]);
  await openWithCampaigns(page, `product.html?id=${PHONE.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  await addToCart(page, 1);
  await exitThroughTop(page);
  await waitForPrompt(page, 'the exit-intent coupon');
  await page.evaluate(() => document.querySelector('cartsense-prompt').shadowRoot.querySelector('[part=copy]').click());
  await page.keyboard.press('Escape');
  await checkout(page);
  await flushPage(page);

  const items = await waitForItems(demo.collector.db, 'the Order Completed', (all) => tracks(mine(all, visitor), 'Order Completed').length);
  const detail = `stored: ${summarize(mine(items, visitor))}\npage log: ${log.join('\n')}`;
  const [order] = tracks(mine(items, visitor), 'Order Completed');
  assert.equal(order.properties.campaign_id, 'exit-coupon', detail);
  assert.equal(order.properties.campaign_arm, 'treatment', detail);
  assert.equal(order.properties.revenue, PHONE.price, `the order itself is unchanged\n${detail}`);
});

test('a held-out visitor never sees the prompt, and Prompt Held Out is stored', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openShop(t, [exitCoupon({ holdout: 1 })]);
  await openWithCampaigns(page, `product.html?id=${PHONE.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  await addToCart(page, 1);
  await exitThroughTop(page);
  await assertNoPromptFor(page, 1500, 'a held-out visitor sees nothing');
  await page.mouse.move(600, 300);
  await exitThroughTop(page);
  await assertNoPromptFor(page, 500, 'a held-out visitor sees nothing, on any exit');
  await checkout(page);
  await flushPage(page);

  const items = mine(await settle(demo.collector.db), visitor);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  const held = tracks(items, 'Prompt Held Out');
  assert.equal(held.length, 1, `one Prompt Held Out (the session cap counts it as a show)\n${detail}`);
  assert.equal(held[0].properties.campaign_id, 'exit-coupon');
  assert.equal(held[0].properties.arm, 'holdout');
  assert.equal(held[0].properties.trigger, 'exit_intent');
  assert.equal(tracks(items, 'Prompt Shown').length, 0, detail);
  const [order] = tracks(items, 'Order Completed');
  assert.equal(order?.properties.campaign_arm, 'holdout', `the held-out order is attributed to the control arm\n${detail}`);
  assert.equal(await page.locator('cartsense-prompt').count(), 0);

  // The collector's campaign report counts this visitor in the holdout arm, as exposed and
  // converted (other tests of this file share the database and the campaign id, hence ≥).
  const run = spawnSync(COLLECTOR_BIN, ['report', '--db', demo.collector.db, '--json'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(run.status, 0, run.stderr);
  const campaign = JSON.parse(run.stdout).campaigns.find((c) => c.campaign_id === 'exit-coupon');
  assert.ok(campaign?.holdout.exposed_visitors >= 1 && campaign.holdout.converted_visitors >= 1, run.stdout);
});

test('keyboard only: the prompt takes focus, Tab reaches its buttons, Esc closes it and focus returns', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openShop(t, [nudge()]);
  await openWithCampaigns(page, `product.html?id=${WATCH.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);

  // Tab to "Add to cart", as a keyboard user does, and press Enter: the Product Added brings
  // the cart within $30 of free shipping.
  for (let i = 0; i < 80 && (await focused(page)) != 'add-to-cart'; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'add-to-cart', 'Tab reaches the Add to cart button');
  await page.keyboard.press('Enter');
  const prompt = await waitForPrompt(page, 'the free-shipping nudge');
  assert.equal(prompt.title, `Add $${(100 - WATCH.price).toFixed(2)} more for free shipping`);

  assert.equal(await focused(page), 'copy', 'focus moves into the prompt');
  const reached = new Set();
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    reached.add(await focused(page));
  }
  assert.deepEqual([...reached].sort(), ['close', 'copy'], 'Tab reaches each button and stays inside the prompt');
  await page.keyboard.press('Escape');
  await waitFor('Esc to close the prompt', async () => (await promptOnScreen(page)) == null);
  assert.equal(await focused(page), 'add-to-cart', 'focus returns to where it was');
  await flushPage(page);

  const items = await waitForItems(demo.collector.db, 'the Prompt Dismissed', (all) => tracks(mine(all, visitor), 'Prompt Dismissed').length);
  const detail = `stored: ${summarize(mine(items, visitor))}\npage log: ${log.join('\n')}`;
  const [dismissed] = tracks(mine(items, visitor), 'Prompt Dismissed');
  assert.equal(dismissed.properties.campaign_id, 'shipping-nudge', detail);
  assert.equal(tracks(mine(items, visitor), 'Prompt Shown').length, 1, detail);
});

test('a product name with markup in it is shown as text, and no script runs', TEST_TIMEOUT, async (t) => {
  const catalog = (data) => ({
    ...data,
    products: data.products.map((p) => (p.id == WATCH.id ? { ...p, name: INJECTION } : p)),
  });
  const nudgeWithProduct = nudge({ offer: { kind: 'message', title: 'Still thinking about {product}?' } });
  const { page, log, dialogs } = await openShop(t, [nudgeWithProduct], { catalog });
  const images = [];
  page.on('request', (request) => /\/x$/.test(new URL(request.url()).pathname) && images.push(request.url()));
  await openWithCampaigns(page, `product.html?id=${WATCH.id}`);
  await addToCart(page, 1);
  const prompt = await waitForPrompt(page, 'the prompt naming the product');
  assert.equal(prompt.title, `Still thinking about ${INJECTION}?`, 'the name is shown as it is, as text');
  assert.ok(!prompt.elements.includes('img'), `no element made from the name: ${prompt.elements.join(' ')}`);
  await sleep(500);
  assert.deepEqual(dialogs, [], 'no alert ran');
  assert.deepEqual(images, [], 'no image was requested');
  assert.deepEqual(log.filter((line) => line.startsWith('pageerror')), []);
});

test('an unreachable unique-code endpoint shows nothing and breaks nothing', TEST_TIMEOUT, async (t) => {
  // Port 9 (discard) refuses the connection: the fetch fails at once.
  const unique = nudge({ offer: { kind: 'amount', value: 5, code: { url: 'http://127.0.0.1:9/code', timeoutMs: 1500 }, title: 'Your code: {code}' } });
  const { page, log } = await openShop(t, [unique]);
  const asked = [];
  page.on('request', (request) => request.url().startsWith('http://127.0.0.1:9/') && asked.push(request.url()));
  await openWithCampaigns(page, `product.html?id=${WATCH.id}`);
  const visitor = await page.evaluate(() => window.cartsense.anonymousId);
  await addToCart(page, 1);
  await waitFor('the warning that the code could not be fetched', () => log.some((line) => /unique code could not be fetched/.test(line)));
  await assertNoPromptFor(page, 1000, 'no prompt without its code');
  // The campaign would still fire on later events (the cart stays near the threshold), but the
  // engine pauses it for a minute: a down endpoint is not asked again on this page, let alone in
  // a loop.
  await page.evaluate(() => window.cartsense.track('Product Viewed', { product_id: 'again', price: 1 }));
  await sleep(300);
  assert.equal(asked.length, 1, `the code endpoint was asked once on the page: ${asked.join(' ')}`);
  // The shop and the tracking go on.
  await Promise.all([page.waitForURL(/\/cart\.html/), page.locator('a.cart-link').click()]);
  await openDemo(page, demo.collector.url + 'cart.html');
  await flushPage(page);

  const items = mine(await settle(demo.collector.db), visitor);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assert.equal(tracks(items, 'Prompt Shown').length, 0, detail);
  assert.equal(tracks(items, 'Product Added').length, 1, detail);
  assert.equal(pages(items, '/cart.html').length, 1, detail);
  assert.equal(tracks(items, 'Cart Viewed').length, 1, detail);
  assert.deepEqual(log.filter((line) => line.startsWith('pageerror')), []);
  assert.equal(asked.length, 1, `nor on the next page within the minute (the pause is stored): ${asked.join(' ')}`);
});

test("the demo's own campaigns.json is valid: no warning, and its nudge shows near the free-shipping threshold", TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  try {
    const page = await context.newPage();
    const log = watchPage(page);
    await openWithCampaigns(page, `product.html?id=${WATCH.id}`);
    await addToCart(page, 1);
    // The nudge has a 10% holdout: either arm is right, and each leaves its trace.
    const visitor = await page.evaluate(() => window.cartsense.anonymousId);
    await flushPage(page);
    const items = await waitForItems(demo.collector.db, 'the nudge decided', (all) =>
      tracks(mine(all, visitor), 'Prompt Shown').length + tracks(mine(all, visitor), 'Prompt Held Out').length,
    );
    const [decision] = [...tracks(mine(items, visitor), 'Prompt Shown'), ...tracks(mine(items, visitor), 'Prompt Held Out')];
    assert.equal(decision.properties.campaign_id, 'free-shipping-nudge');
    if (decision.event == 'Prompt Shown') assert.equal((await promptOnScreen(page))?.title, `Add $${(100 - WATCH.price).toFixed(2)} more for free shipping`);
    assert.deepEqual(log.filter((line) => /cartsense/.test(line)), [], 'no warning from cartsense');
    assert.ok(exportItems(demo.collector.db).length > 0);
  } finally {
    await context.close();
  }
});

test("onPrompt: the shop's own UI gets the prompt and a report function; the default UI is never loaded", TEST_TIMEOUT, async (t) => {
  // The built package served by a static server, its /v1/batch proxied to the demo's collector.
  const { site, page, log } = await openBlankPage(t, demo);
  const visitor = await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    window.prompts = [];
    window.tracker = await init({
      endpoint: '/v1/batch', writeKey: 'own-ui', storage: 'memory', flushInterval: 200,
      campaigns: [{
        id: 'own-ui', trigger: { type: 'spend_threshold', threshold: 100, within: 50 }, holdout: 0,
        offer: { kind: 'amount', value: 5, code: 'FIVE', title: 'Add ${toThreshold} more, save {discount}' },
      }],
      onPrompt: (prompt, report) => {
        window.prompts.push(prompt);
        window.report = report;
        report('shown');
      },
    });
    return window.tracker.anonymousId;
  });
  await page.waitForFunction(() => window.tracker.profile() !== null, null, { timeout: 10_000 });
  await page.evaluate(() => window.tracker.track('Product Added', { product_id: 'p-80', name: 'Teapot', price: 80, quantity: 1 }));
  await waitFor('onPrompt to be called', () => page.evaluate(() => window.prompts.length));

  const [prompt] = await page.evaluate(() => window.prompts);
  assert.equal(prompt.campaignId, 'own-ui');
  assert.equal(prompt.title, 'Add $20 more, save 5');
  assert.equal(prompt.code, 'FIVE');
  const outcomes = await page.evaluate(() => {
    const out = [];
    window.report('copied');
    window.report('clicked');
    window.report('dismissed'); // after the click closed it: ignored
    try {
      window.report('vanished');
    } catch (error) {
      out.push(error.constructor.name + ': ' + error.message);
    }
    window.tracker.track('Order Completed', { order_id: 'own-1', revenue: 80, products: [{ product_id: 'p-80', price: 80, quantity: 1 }] });
    return out;
  });
  assert.match(outcomes[0], /^TypeError: cartsense: report\(\) takes 'shown', .*not "vanished"$/);
  await page.evaluate(() => window.tracker.flush());

  assert.equal(await page.locator('cartsense-prompt').count(), 0, 'the default UI is not used');
  assert.deepEqual(site.requests.filter(([, path]) => path.endsWith('/prompt.js')), [], 'the default UI is never fetched');
  const items = (await settle(demo.collector.db)).filter((item) => item.anonymousId == visitor);
  const detail = `stored: ${summarize(items)}\npage log: ${log.join('\n')}`;
  assert.deepEqual(
    items.filter((item) => /^(Prompt|Coupon)/.test(item.event)).map((item) => [item.event, item.properties.campaign_id, item.properties.coupon]),
    [['Prompt Shown', 'own-ui', 'FIVE'], ['Coupon Copied', 'own-ui', 'FIVE'], ['Prompt Clicked', 'own-ui', 'FIVE']],
    detail,
  );
  const [order] = tracks(items, 'Order Completed');
  assert.deepEqual([order?.properties.campaign_id, order?.properties.campaign_arm], ['own-ui', 'treatment'], detail);
});

test("onPrompt: a dismissal reported without 'shown' first still counts the show", TEST_TIMEOUT, async (t) => {
  const { page, log } = await openBlankPage(t, demo);
  const visitor = await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    window.tracker = await init({
      endpoint: '/v1/batch', writeKey: 'own-ui', storage: 'memory', flushInterval: 200,
      campaigns: [{
        id: 'own-ui', trigger: { type: 'spend_threshold', threshold: 100, within: 50 }, holdout: 0,
        offer: { kind: 'amount', value: 5, code: 'FIVE', title: 'Add ${toThreshold} more' },
      }],
      onPrompt: (prompt, report) => (window.report = report),
    });
    return window.tracker.anonymousId;
  });
  await page.waitForFunction(() => window.tracker.profile() !== null, null, { timeout: 10_000 });
  await page.evaluate(() => window.tracker.track('Product Added', { product_id: 'p-80', name: 'Teapot', price: 80, quantity: 1 }));
  await waitFor('onPrompt to be called', () => page.evaluate(() => typeof window.report == 'function'));
  await page.evaluate(() => {
    window.report('dismissed');
    return window.tracker.flush();
  });
  const items = (await settle(demo.collector.db)).filter((item) => item.anonymousId == visitor);
  assert.deepEqual(
    items.filter((item) => /^Prompt/.test(item.event)).map((item) => item.event),
    ['Prompt Shown', 'Prompt Dismissed'],
    `stored: ${summarize(items)}\npage log: ${log.join('\n')}`,
  );
});

test('a unique code is fetched when the prompt is about to show, fills {code}, and is the coupon of its events; a slow endpoint times out', TEST_TIMEOUT, async (t) => {
  const unique = nudge({
    offer: { kind: 'amount', value: 5, code: { url: '/unique-code', timeoutMs: 1000 }, title: 'Your code: {code}', message: 'Use {code} today.' },
  });
  // The first visitor's endpoint answers too late; the second's at once.
  for (const [delay, expectShown] of [[2500, false], [0, true]]) {
    const { page, context, log } = await openShop(t, [unique]);
    const asked = [];
    await context.route('**/unique-code', async (route) => {
      asked.push(Date.now());
      await sleep(delay);
      await route.fulfill({ json: { code: 'UNIQ-123' } }).catch(() => {}); // aborted by the page: fine
    });
    await openWithCampaigns(page, `product.html?id=${WATCH.id}`);
    const visitor = await page.evaluate(() => window.cartsense.anonymousId);
    await addToCart(page, 1);
    if (expectShown) {
      const prompt = await waitForPrompt(page, 'the prompt with its fetched code');
      assert.deepEqual([prompt.title, prompt.message, prompt.code], ['Your code: UNIQ-123', 'Use UNIQ-123 today.', 'UNIQ-123']);
    } else {
      await waitFor('the timeout warning', () => log.some((line) => /unique code could not be fetched.*no answer within 1000 ms/.test(line)));
      await assertNoPromptFor(page, 500, 'no prompt once the code is late');
    }
    assert.equal(asked.length, 1, 'the code is fetched once, when the prompt is about to show');
    await flushPage(page);
    const items = mine(await settle(demo.collector.db), visitor);
    const shown = tracks(items, 'Prompt Shown');
    assert.equal(shown.length, expectShown ? 1 : 0, `stored: ${summarize(items)}\npage log: ${log.join('\n')}`);
    if (expectShown) assert.equal(shown[0].properties.coupon, 'UNIQ-123');
  }
});

test("a page without campaigns downloads no campaign code; with campaigns, the engine's build loads, and setConsent('denied') closes its prompt", TEST_TIMEOUT, async (t) => {
  const { site, page, log } = await openBlankPage(t, demo);
  const fetchedSince = (from) => site.requests.slice(from).map(([, path]) => path).filter((path) => path.startsWith('/pkg/'));
  const CAMPAIGN_CODE = ['/pkg/campaigns.js', '/pkg/cartsense_insight_campaigns.js', '/pkg/cartsense_insight_campaigns_bg.wasm', '/pkg/prompt.js'];

  await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    window.tracker = await init({ endpoint: '/v1/batch', writeKey: 'no-campaigns', storage: 'memory' });
    window.tracker.track('Product Added', { product_id: 'p-80', name: 'Teapot', price: 80, quantity: 1 });
  });
  await page.waitForFunction(() => window.tracker.profile() !== null, null, { timeout: 10_000 });
  const plain = fetchedSince(0);
  assert.ok(plain.includes('/pkg/cartsense_insight_bg.wasm'), `the intelligence without campaigns: ${plain.join(', ')}`);
  assert.deepEqual(plain.filter((path) => CAMPAIGN_CODE.includes(path)), [], 'no campaign code without campaigns');

  const from = site.requests.length;
  await page.goto(site.origin + '/tests/e2e/fixtures/blank.html?campaigns', { waitUntil: 'load' });
  await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    window.tracker = await init({
      endpoint: '/v1/batch', writeKey: 'campaigns', storage: 'memory',
      campaigns: [{
        id: 'consent-nudge', trigger: { type: 'spend_threshold', threshold: 100, within: 50 }, holdout: 0,
        offer: { kind: 'amount', value: 5, code: 'FIVE', title: 'Add ${toThreshold} more, save {discount}' },
      }],
    });
  });
  await page.waitForFunction(() => window.tracker.profile() !== null, null, { timeout: 10_000 });
  await page.evaluate(() => window.tracker.track('Product Added', { product_id: 'p-80', name: 'Teapot', price: 80, quantity: 1 }));
  const prompt = await waitForPrompt(page, `the nudge in the default UI (log: ${log.join('\n')})`);
  assert.equal(prompt.title, 'Add $20 more, save 5');
  const loaded = fetchedSince(from);
  for (const file of ['/pkg/campaigns.js', '/pkg/cartsense_insight_campaigns_bg.wasm', '/pkg/prompt.js']) {
    assert.ok(loaded.includes(file), `${file} loads with campaigns: ${loaded.join(', ')}`);
  }
  assert.ok(!loaded.includes('/pkg/cartsense_insight_bg.wasm'), 'the intelligence without campaigns is not loaded as well');

  await page.evaluate(() => window.tracker.setConsent('denied'));
  await waitFor('the prompt to close when consent is denied', async () => (await promptOnScreen(page)) == null);
  assert.deepEqual(log.filter((line) => /cartsense/.test(line)), [], 'no warning from cartsense');
});

test("setConsent('denied') while a prompt's unique code is being fetched: the prompt never shows", TEST_TIMEOUT, async (t) => {
  const { page, log } = await openBlankPage(t, demo);
  let asked = 0;
  let answer;
  const answered = new Promise((resolve) => (answer = resolve));
  await page.route('**/slow-code', async (route) => {
    asked++;
    await answered;
    await route.fulfill({ json: { code: 'LATE-1' } }).catch(() => {});
  });
  await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    window.tracker = await init({
      endpoint: '/v1/batch', writeKey: 'consent-race', storage: 'memory',
      campaigns: [{
        id: 'race-nudge', trigger: { type: 'spend_threshold', threshold: 100, within: 50 }, holdout: 0,
        offer: { kind: 'amount', value: 5, code: { url: '/slow-code', timeoutMs: 5000 }, title: 'Your code: {code}' },
      }],
    });
  });
  await page.waitForFunction(() => window.tracker.profile() !== null, null, { timeout: 10_000 });
  await page.evaluate(() => window.tracker.track('Product Added', { product_id: 'p-80', name: 'Teapot', price: 80, quantity: 1 }));
  await waitFor('the unique code to be asked for', () => asked == 1);
  await page.evaluate(() => window.tracker.setConsent('denied'));
  answer();
  await assertNoPromptFor(page, 1000, `no prompt after the denial (log: ${log.join('\n')})`);
});

test('offer.cta: the default UI shows the call to action, and its click is Prompt Clicked without onPrompt', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openBlankPage(t, demo);
  const visitor = await page.evaluate(async () => {
    const { init } = await import('/pkg/index.js');
    window.tracker = await init({
      endpoint: '/v1/batch', writeKey: 'cta', storage: 'memory', flushInterval: 200,
      campaigns: [{
        id: 'cta-nudge', trigger: { type: 'spend_threshold', threshold: 100, within: 50 }, holdout: 0,
        offer: { kind: 'amount', value: 5, code: 'FIVE', title: 'Add ${toThreshold} more', cta: 'Use {code}' },
      }],
    });
    return window.tracker.anonymousId;
  });
  await page.waitForFunction(() => window.tracker.profile() !== null, null, { timeout: 10_000 });
  await page.evaluate(() => window.tracker.track('Product Added', { product_id: 'p-80', name: 'Teapot', price: 80, quantity: 1 }));
  await waitForPrompt(page, `the nudge in the default UI (log: ${log.join('\n')})`);
  await page.getByRole('button', { name: 'Use FIVE' }).click();
  await waitFor('the prompt to close', async () => (await promptOnScreen(page)) == null);
  await page.evaluate(() => window.tracker.flush());
  const items = await waitForItems(demo.collector.db, 'Prompt Clicked', (all) => tracks(mine(all, visitor), 'Prompt Clicked').length);
  const [clicked] = tracks(mine(items, visitor), 'Prompt Clicked');
  assert.deepEqual([clicked.properties.campaign_id, clicked.properties.coupon], ['cta-nudge', 'FIVE'], `stored: ${summarize(mine(items, visitor))}`);
});
