// The recommendations widget (issue 6, src/browser/recs-widget.js) in Chromium: fill() driven
// directly on a fixture page (tests/e2e/fixtures/recs-widget.html, served from the repository
// with the widget's source), so what it renders, reports and reserves is checked on its own;
// with the built tracker and autocapture on, that a widget card's click is stored once; and the
// demo shop with its model (www/recs.bin): a product page's `similar` shelf, its clicks, and a
// corrupt model that leaves the shop working and tracking.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPO, WWW, launchBrowser, requireBuilt, startCollector, startStaticServer, watchPage, waitForItems, settle, tracks,
  summarize, assertNoDuplicateIds, openDemo, pages, TEST_TIMEOUT,
} from './harness.mjs';

const INJECTION = '<img src=x onerror="window.injected=1">';
const FIXTURE = '/tests/e2e/fixtures/recs-widget.html';
const WIDGET = '/src/browser/recs-widget.js';

// A catalogue with every way an entry can be unfit to show, between fit ones.
const CATALOGUE = {
  P1: { name: INJECTION, url: '#p1', price: 12.5, currency: 'USD', brand: 'Acme', image: '/img/p1.png' },
  P2: { name: 'Script link', url: 'javascript:window.injected=2' },
  P3: { name: 'Second', url: '#p3', price: 3, image: 'data:image/svg+xml,<svg onload="window.injected=3"/>' },
  P4: { name: 'No URL' },
  P5: { name: '', url: '#p5' },
  P6: { name: 'Third', url: 'https://shop.example/p6' },
  P7: { name: 'Fourth', url: '#p7' },
};
const ITEMS = ['P1', 'P2', 'UNKNOWN', 'constructor', 'P3', 'P4', 'P5', 'P1', 'P6', 'P7'].map((id, i) => ({
  product_id: id,
  score: 1 - i / 10,
  reason: 'similar',
}));

let browser;
let site;
let collector;
before(async () => {
  requireBuilt({ recsModel: true });
  // The package loads ./recs-widget.js next to recs.js; until scripts/build.sh ships it, the
  // source is put there (the build's minified copy is used once it does).
  for (const dir of [join(REPO, 'pkg'), join(WWW, 'cartsense')]) {
    if (!existsSync(join(dir, 'recs-widget.js'))) copyFileSync(join(REPO, 'src/browser/recs-widget.js'), join(dir, 'recs-widget.js'));
  }
  collector = await startCollector({ www: WWW });
  site = await startStaticServer(REPO, { proxyBatchTo: collector.port });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close().catch(() => {});
  await site?.close();
  await collector?.stop();
});

/** A fresh page on the fixture with the widget imported as `window.widget` and the fill
 * callbacks recorded in `window.shown` / `window.clicked`. */
async function fixturePage(t) {
  const context = await browser.newContext();
  t.after(() => context.close().catch(() => {}));
  const page = await context.newPage();
  const log = watchPage(page);
  await page.goto(site.origin + FIXTURE, { waitUntil: 'load' });
  await page.evaluate(async (widget) => {
    window.widget = await import(widget);
    window.shown = [];
    window.clicked = [];
    window.record = {
      onShown: (listId, products) => window.shown.push({ listId, products }),
      onClick: (listId, product, position) => window.clicked.push({ listId, product, position }),
    };
  }, WIDGET);
  return { page, log };
}

const fill = (page, selector, ids, catalogue = CATALOGUE) =>
  page.evaluate(
    ({ selector, ids, catalogue }) =>
      window.widget.fill(
        document.querySelector(selector),
        ids.map((product_id) => ({ product_id, score: 1, reason: 'test' })),
        { catalogue, ...window.record },
      ),
    { selector, ids, catalogue },
  );

test('SSR: importing the widget touches no DOM', async () => {
  const widget = await import('../../src/browser/recs-widget.js');
  assert.equal(typeof widget.fill, 'function');
});

test('the template is filled as text, with safe URLs only, skipping what the catalogue cannot describe', TEST_TIMEOUT, async (t) => {
  const { page, log } = await fixturePage(t);
  const count = await page.evaluate(
    ({ items, catalogue }) => window.widget.fill(document.querySelector('#similar'), items, { catalogue, ...window.record }),
    { items: ITEMS, catalogue: CATALOGUE },
  );
  assert.equal(count, 3, 'data-cs-limit="3" cards, from the describable items only');
  const cards = await page.$$eval('#similar [data-cs-cards] > *', (cards) =>
    cards.map((card) => ({
      tag: card.tagName,
      product: card.getAttribute('data-cs-product'),
      position: card.getAttribute('data-cs-position'),
      name: card.querySelector('[data-cs-field=name]').textContent,
      brand: card.querySelector('[data-cs-field=brand]'),
      price: card.querySelector('[data-cs-field=price]').textContent,
      href: card.querySelector('a').getAttribute('href'),
      image: { src: card.querySelector('img').getAttribute('src'), alt: card.querySelector('img').alt, hidden: card.querySelector('img').hidden },
      elements: card.querySelectorAll('*').length,
    })),
  );
  assert.deepEqual(
    cards.map((c) => [c.tag, c.product, c.position]),
    [['LI', 'P1', '1'], ['LI', 'P3', '2'], ['LI', 'P6', '3']],
    'javascript: URL, unknown id, "constructor", missing URL, empty name and the repeated P1 are skipped',
  );
  // The injection string is text: shown as typed, no element made of it, nothing ran.
  assert.equal(cards[0].name, INJECTION);
  assert.equal(cards[0].elements, 5, 'a, img and three spans: the template, nothing more');
  assert.equal(await page.locator('#similar img:not([data-cs-field])').count(), 0);
  assert.equal(await page.evaluate(() => window.injected), undefined);
  assert.equal(cards[0].price, '$12.50');
  assert.equal(cards[1].price, '3.00', 'no currency: the amount alone');
  assert.equal(cards[0].href, site.origin + FIXTURE + '#p1', 'relative URLs resolve against the page');
  assert.equal(cards[2].href, 'https://shop.example/p6');
  assert.deepEqual(cards[0].image, { src: site.origin + '/img/p1.png', alt: INJECTION, hidden: false });
  assert.deepEqual(cards[1].image, { src: null, alt: '', hidden: true }, 'a data: image is not used');
  assert.equal(await page.getAttribute('#similar', 'data-cs-empty'), null);
  assert.ok(log.some((line) => line.includes('product P2 skipped')), `the javascript: URL is reported\n${log.join('\n')}`);

  // Bad input names what is wrong.
  const errors = await page.evaluate(() => {
    const attempt = (f) => {
      try {
        f();
        return 'no error';
      } catch (error) {
        return error.message;
      }
    };
    const missing = document.createElement('div');
    missing.setAttribute('data-cs-recs', 'for_you');
    missing.setAttribute('data-cs-template', 'no-such-template');
    // An empty kind is no list id of its own (it was "recommended"): refused, the container left as it is.
    const noKind = document.createElement('section');
    noKind.setAttribute('data-cs-recs', '');
    const items = [{ product_id: 'P1', score: 1, reason: 'test' }];
    return [
      attempt(() => window.widget.fill(null, [])),
      attempt(() => window.widget.fill(document.querySelector('#similar'), 'P1')),
      attempt(() => window.widget.fill(missing, [])),
      attempt(() => window.widget.fill(noKind, items, { catalogue: { P1: { name: 'First', url: '#p1' } }, ...window.record })),
      noKind.outerHTML,
    ];
  });
  assert.match(errors[0], /container must be an Element/);
  assert.match(errors[1], /items must be an array/);
  assert.match(errors[2], /data-cs-template="no-such-template" names no <template>/);
  assert.match(errors[3], /data-cs-recs must name a kind/);
  assert.equal(errors[4], '<section data-cs-recs=""></section>');
});

test('onShown and onClick get the list id and 1-based positions; cards work from the keyboard', TEST_TIMEOUT, async (t) => {
  const { page } = await fixturePage(t);
  assert.equal(await fill(page, '#similar', ['P1', 'P3', 'P6']), 3);
  assert.equal(await fill(page, '#similar', ['P1', 'P3', 'P6']), 3, 'a re-fill with the same list');
  assert.equal(await fill(page, '#for-you', ['P7', 'P2', 'P3']), 2);
  assert.deepEqual(await page.evaluate(() => window.shown), [
    {
      listId: 'similar:P0',
      products: [
        { product_id: 'P1', position: 1, name: INJECTION, price: 12.5 },
        { product_id: 'P3', position: 2, name: 'Second', price: 3 },
        { product_id: 'P6', position: 3, name: 'Third' },
      ],
    },
    { listId: 'for_you', products: [{ product_id: 'P7', position: 1, name: 'Fourth' }, { product_id: 'P3', position: 2, name: 'Second', price: 3 }] },
  ], 'each list once: the identical re-fill is not a new view');

  await page.click('#similar [data-cs-position="2"] [data-cs-field=name]');
  await page.click('#for-you [data-cs-position="1"]');
  // Keyboard: focus the first similar card's link and press Enter.
  await page.focus('#similar [data-cs-position="1"] a');
  await page.keyboard.press('Enter');
  assert.deepEqual(await page.evaluate(() => window.clicked), [
    { listId: 'similar:P0', product: { product_id: 'P3', name: 'Second', price: 3, url: site.origin + FIXTURE + '#p3' }, position: 2 },
    { listId: 'for_you', product: { product_id: 'P7', name: 'Fourth', url: site.origin + FIXTURE + '#p7' }, position: 1 },
    { listId: 'similar:P0', product: { product_id: 'P1', name: INJECTION, price: 12.5, url: site.origin + FIXTURE + '#p1' }, position: 1 },
  ]);

  // A new list in the same container is a new view, with the new positions.
  await fill(page, '#similar', ['P6', 'P1']);
  const shown = await page.evaluate(() => window.shown);
  assert.equal(shown.length, 3);
  assert.deepEqual(shown[2].products.map((p) => [p.product_id, p.position]), [['P6', 1], ['P1', 2]]);
});

test('a page whose lang is not a valid language tag still gets its cards, priced in the browser locale', TEST_TIMEOUT, async (t) => {
  const { page } = await fixturePage(t);
  // A common slip in shop templates: an underscore, which Intl refuses with a RangeError.
  await page.evaluate(() => document.documentElement.setAttribute('lang', 'en_US'));
  assert.equal(await fill(page, '#similar', ['P1', 'P3']), 2);
  const prices = await page.$$eval('#similar [data-cs-field=price]', (spans) => spans.map((span) => span.textContent));
  assert.equal(prices.length, 2);
  assert.ok(prices.every((price) => /12[.,]50|3[.,]00/.test(price)), prices.join(', '));
});

test('a re-fill replaces the cards in place: no layout shift, and an empty result keeps the space', TEST_TIMEOUT, async (t) => {
  const { page } = await fixturePage(t);
  await page.evaluate(() => {
    window.shift = 0;
    window.shifted = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.hadRecentInput) continue;
        window.shift += entry.value;
        for (const { node, previousRect, currentRect } of entry.sources) {
          window.shifted.push(`${node?.outerHTML?.slice(0, 80)} ${JSON.stringify(previousRect)} → ${JSON.stringify(currentRect)}`);
        }
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const frames = () => page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const layout = () =>
    page.evaluate(() => ({
      below: document.querySelector('#below').getBoundingClientRect().top,
      height: document.querySelector('#similar').getBoundingClientRect().height,
      empty: document.querySelector('#similar').hasAttribute('data-cs-empty'),
      cards: document.querySelectorAll('#similar [data-cs-position]').length,
    }));
  await frames();
  const reserved = await layout();
  assert.equal(reserved.height, 160, "the fixture's CSS min-height");

  // Without images: a broken image (these test URLs 404) changes its card's own lines when its
  // load fails, whenever that is; the widget's updates are what is measured here.
  const textOnly = Object.fromEntries(Object.entries(CATALOGUE).map(([id, { image, ...entry }]) => [id, entry]));
  const steps = [['P1', 'P3', 'P6'], ['P7', 'P6', 'P3'], ['P1'], ['UNKNOWN', 'P2'], ['P1', 'P3']];
  for (const ids of steps) {
    await fill(page, '#similar', ids, textOnly);
    await frames();
    const now = await layout();
    assert.equal(now.below, reserved.below, `content below stays put after filling ${ids}`);
    assert.equal(now.height, reserved.height, `the container keeps its height after filling ${ids}`);
    assert.equal(now.empty, ids[0] == 'UNKNOWN', `data-cs-empty after filling ${ids}`);
  }
  assert.equal((await layout()).cards, 2, 'the old cards are gone, the new ones in their place');
  const shifted = () => page.evaluate(() => window.shifted.join('\n'));
  assert.equal(await page.evaluate(() => window.shift), 0, `cumulative layout shift; shifted:\n${await shifted()}`);
  assert.equal((await page.evaluate(() => window.shown)).length, 4, 'the empty result is not a list view');

  // A container without a CSS min-height (a block, or a flex item whose min-height computes to
  // "auto") keeps the height its cards had when fewer come.
  for (const selector of ['#for-you', '#in-flex']) {
    await fill(page, selector, ['P1', 'P3', 'P6'], textOnly);
    await frames();
    await page.evaluate(() => (window.shift = 0)); // that first fill had no space reserved
    const before = await page.evaluate(() => document.querySelector('#below').getBoundingClientRect().top);
    assert.equal(await fill(page, selector, [], textOnly), 0);
    await frames();
    assert.equal(await page.evaluate(() => document.querySelector('#below').getBoundingClientRect().top), before, selector);
    assert.equal(await page.getAttribute(selector, 'data-cs-empty'), '');
    assert.equal(await page.evaluate(() => window.shift), 0, `cumulative layout shift after emptying ${selector}`);
  }
});

test('with autocapture on, a widget card click is stored once, with the widget list id and position', TEST_TIMEOUT, async (t) => {
  const { page, log } = await fixturePage(t);
  // The widget is filled before init(), so autocapture's first scan sees its cards, and one
  // widget sits inside a data-cs-list of the shop's own: the worst case for double counting.
  // onClick tracks as the shell does (index.js wires the same once recommendations load).
  const anonymousId = await page.evaluate(async (catalogue) => {
    const { init } = await import('/pkg/index.js');
    const items = (ids) => ids.map((product_id) => ({ product_id, score: 1, reason: 'test' }));
    let tracker;
    const options = {
      catalogue,
      onShown: (list_id, products) => tracker?.track('Product List Viewed', { list_id, products }),
      onClick: (list_id, product, position) => tracker.track('Product Clicked', { ...product, list_id, position }),
    };
    window.widget.fill(document.querySelector('#similar'), items(['P1', 'P3']), options);
    window.widget.fill(document.querySelector('#for-you'), items(['P7', 'P6']), options);
    tracker = await init({ endpoint: '/v1/batch', writeKey: 'recs-widget', storage: 'memory', autocapture: true, flushInterval: 200 });
    window.tracker = tracker;
    return tracker.anonymousId;
  }, CATALOGUE);
  await page.click('#similar [data-cs-position="2"] a');
  await page.click('#for-you [data-cs-position="1"]');
  await page.click('#static-link'); // autocapture still counts the shop's own lists
  await page.evaluate(() => window.tracker.flush());

  const mine = (items) => items.filter((item) => item.anonymousId == anonymousId);
  await waitForItems(collector.db, 'the three Product Clicked events', (items) => tracks(mine(items), 'Product Clicked').length >= 3);
  const stored = mine(await settle(collector.db));
  const detail = `stored: ${summarize(stored)}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(stored);
  const clicks = tracks(stored, 'Product Clicked').map((i) => [i.properties.product_id, i.properties.list_id, i.properties.position]);
  assert.deepEqual(clicks, [['P3', 'similar:P0', 2], ['P7', 'for_you', 1], ['static-1', 'static-shelf', 1]], detail);
  // Autocapture's list views never include a widget's cards (or its container).
  const lists = tracks(stored, 'Product List Viewed').map((i) => [i.properties.list_id, i.properties.products.map((p) => p.product_id)]);
  assert.deepEqual(lists.sort(), [['outer-shelf', []], ['static-shelf', ['static-1']]], detail);
});

// ---------- the demo shop with its model ----------

// Samsung Smartphone 1004856 (www/catalog.json): the REES46 model has neighbours of it that the
// demo's 80-product catalogue describes.
const PHONE = '1004856';
const mine = (items, anonymousId) => items.filter((item) => item.anonymousId == anonymousId);

async function demoPage(t) {
  // Tall enough that the shelves and what follows them are on screen: shifts out of view do
  // not count, and would go unseen.
  const context = await browser.newContext({ viewport: { width: 1280, height: 2400 } });
  t.after(() => context.close().catch(() => {}));
  const page = await context.newPage();
  return { context, page, log: watchPage(page) };
}

const recsState = (page) =>
  page
    .waitForFunction(() => document.documentElement.dataset.recs, null, { timeout: 20_000 })
    .then(() => page.evaluate(() => ({ recs: document.documentElement.dataset.recs, error: String(window.cartsenseRecsError?.message || '') })));

test("demo: a product page fills its similar shelf, and a card's click is stored with its list_id and position", TEST_TIMEOUT, async (t) => {
  const { page, log } = await demoPage(t);
  // Layout shifts, and when the shelf first got cards: filling the shelf must not shift the page
  // (the shop's own first render, before that, is demo-layout.test.mjs's).
  await page.addInitScript(() => {
    window.shifts = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.shifts.push([entry.startTime, entry.value]);
    }).observe({ type: 'layout-shift', buffered: true });
    new MutationObserver(() => {
      window.filledAt ??= document.querySelector('[data-cs-recs] [data-cs-position]') ? performance.now() : undefined;
    }).observe(document, { subtree: true, childList: true });
  });
  await openDemo(page, `${collector.url}product.html?id=${PHONE}`);
  assert.deepEqual(await recsState(page), { recs: 'ready', error: '' }, log.join('\n'));
  const shelf = page.locator('[data-cs-recs="similar"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-cs-recs="similar"] [data-cs-position]').length > 1, null, {
    timeout: 10_000,
  });
  const catalog = JSON.parse(readFileSync(join(WWW, 'catalog.json'), 'utf8'));
  const names = new Map(catalog.products.map((p) => [p.id, p.name]));
  const cards = await shelf.locator('[data-cs-position]').evaluateAll((cards) =>
    cards.map((card) => ({
      product: card.getAttribute('data-cs-product'),
      position: Number(card.getAttribute('data-cs-position')),
      name: card.querySelector('[data-cs-field=name]').textContent,
      href: card.querySelector('a').getAttribute('href'),
    })),
  );
  assert.ok(cards.length <= 4, 'data-cs-limit="4"');
  for (const [i, card] of cards.entries()) {
    assert.equal(card.position, i + 1);
    assert.notEqual(card.product, PHONE, 'not the product itself');
    assert.equal(card.name, names.get(card.product), `card ${i + 1} shows the catalogue's product`);
    assert.equal(card.href, `${collector.url}product.html?id=${card.product}`);
  }
  assert.equal(await shelf.getAttribute('data-cs-empty'), null);
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const { filledAt, shifts } = await page.evaluate(() => ({ filledAt: window.filledAt, shifts: window.shifts }));
  assert.ok(filledAt > 0, 'the fill was seen');
  assert.deepEqual(shifts.filter(([at]) => at >= filledAt), [], 'no layout shift from filling the shelf (CLS 0)');

  const anonymousId = await page.evaluate(() => window.cartsense.anonymousId);
  const target = cards.at(-1);
  await Promise.all([page.waitForURL(new RegExp(`product\\.html\\?id=${target.product}$`)), shelf.locator('a.card').last().click()]);
  const listId = `similar:${PHONE}`;
  await waitForItems(collector.db, 'the similar list view and the card click', (items) =>
    tracks(mine(items, anonymousId), 'Product Clicked').length >= 1 &&
    tracks(mine(items, anonymousId), 'Product List Viewed', (p) => p.list_id == listId).length >= 1,
  );
  await page.goto('about:blank');
  const stored = mine(await settle(collector.db), anonymousId);
  const detail = `stored: ${summarize(stored)}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(stored);
  const [viewed, ...again] = tracks(stored, 'Product List Viewed', (p) => p.list_id == listId);
  assert.equal(again.length, 0, `one view of the list\n${detail}`);
  assert.deepEqual(viewed.properties.products.map((p) => [String(p.product_id), p.position]), cards.map((c) => [c.product, c.position]), detail);
  const clicks = tracks(stored, 'Product Clicked');
  assert.equal(clicks.length, 1, `one Product Clicked, not one from autocapture as well\n${detail}`);
  assert.equal(String(clicks[0].properties.product_id), target.product);
  assert.equal(clicks[0].properties.list_id, listId);
  assert.equal(clicks[0].properties.position, target.position);
  assert.equal(clicks[0].context.page.path, '/product.html');
});

test('demo: a corrupt model leaves the shop working and tracking, with the shelves marked empty', TEST_TIMEOUT, async (t) => {
  const { context, page, log } = await demoPage(t);
  // The demo's own model cut in half: what a truncated download would give.
  const model = readFileSync(join(WWW, 'recs.bin'));
  await context.route('**/recs.bin', (route) => route.fulfill({ body: model.subarray(0, model.length >> 1), contentType: 'application/octet-stream' }));
  await openDemo(page, `${collector.url}product.html?id=${PHONE}`);
  const state = await recsState(page);
  assert.equal(state.recs, 'off', `loadRecommendations rejected (${log.join('\n')})`);
  assert.match(state.error, /^loadRecommendations: .*truncated/, 'the error names what is wrong');
  assert.equal(await page.getAttribute('[data-cs-recs="similar"]', 'data-cs-empty'), '');
  assert.equal(await page.locator('[data-cs-recs] [data-cs-position]').count(), 0);

  const anonymousId = await page.evaluate(() => window.cartsense.anonymousId);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await page.evaluate(() => window.cartsense.flush());
  const items = await waitForItems(collector.db, 'the page view, Product Viewed and Product Added', (items) =>
    ['Product Viewed', 'Product Added'].every((event) => tracks(mine(items, anonymousId), event).length == 1) &&
    pages(mine(items, anonymousId), '/product.html').length == 1,
  );
  const added = tracks(mine(items, anonymousId), 'Product Added')[0];
  assert.equal(String(added.properties.product_id), PHONE, summarize(mine(items, anonymousId)));
});
