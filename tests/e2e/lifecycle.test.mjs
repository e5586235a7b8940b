// The tracker's own lifecycle in a real page: the intelligence's state reaches storage without
// waiting for another event, dispose() leaves nothing undone, and a module that fails to load
// costs only what it provides (autocapture, or the scores), never the tracking.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useDemo, openDemo, watchPage, waitFor, waitForItems, within, tracks, pages, flushPage, TEST_TIMEOUT,
} from './harness.mjs';

const demo = useDemo();
const PRODUCT = { id: '1004856', price: 130.76 };

/** The intelligence module loads after the first event; wait for it. */
const insightReady = (page) => page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });

/** Whether the stored intelligence state (cartsense.insight) mentions `text`. */
const storedInsightHas = (page, text) =>
  page.evaluate((text) => (localStorage.getItem('cartsense.insight') || '').includes(text), text);

test('the intelligence state is stored within a second of an event, with nothing else to wake the tracker', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);
  await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
  await insightReady(page);
  await flushPage(page);
  // One event, delivered at once: afterwards nothing is queued, so no delivery timer will run
  // the engine's storage operations; only the state-save timer can.
  await page.evaluate(async () => {
    window.cartsense.track('Product Viewed', { product_id: 'timer-probe', category: 'probe', price: 1 });
    await window.cartsense.flush();
  });
  assert.equal(await storedInsightHas(page, 'timer-probe'), false, 'not stored at once: at most once a second');
  await waitFor(`cartsense.insight to mention the product viewed (page log: ${log.join('\n')})`, () => storedInsightHas(page, 'timer-probe'), {
    timeout: 4000,
  });
  await context.close();
});

test('dispose() stores the intelligence state, resolves a waiting flush() and frees the tracker', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
  await insightReady(page);
  await flushPage(page);
  // The collector never answers from now on: a flush() can only end through dispose().
  await page.route('**/v1/batch', () => {});
  const outcome = await within(
    'dispose() to resolve the waiting flush()',
    page.evaluate(async () => {
      const tracker = window.cartsense;
      tracker.track('Product Viewed', { product_id: 'dispose-probe', category: 'probe', price: 1 });
      const flushed = tracker.flush();
      tracker.dispose();
      await flushed;
      let after;
      try {
        tracker.track('After Dispose');
        after = 'did not throw';
      } catch (error) {
        after = error.message;
      }
      return {
        stored: (localStorage.getItem('cartsense.insight') || '').includes('dispose-probe'),
        queued: Object.keys(localStorage).filter((key) => key.startsWith('cartsense.q.')).length,
        profile: tracker.profile(),
        after,
      };
    }),
    10_000,
  );
  assert.equal(outcome.stored, true, 'the state saved at dispose() reached localStorage');
  assert.ok(outcome.queued >= 1, 'the event waiting for its answer stays stored for the next page');
  assert.equal(outcome.profile, null, 'the intelligence module is freed');
  assert.match(outcome.after, /disposed/, 'a call after dispose() says so');
  await context.close();
});

test('leaving runs the leave logic once although visibilitychange and pagehide both fire; coming back re-arms it', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
  await insightReady(page);
  await flushPage(page);
  const saves = await page.evaluate(() => {
    // Each run of the leave logic stores the intelligence's state once: count those writes.
    let writes = 0;
    const setItem = Storage.prototype.setItem;
    Storage.prototype.setItem = function (key, value) {
      if (key == 'cartsense.insight') writes++;
      return setItem.call(this, key, value);
    };
    const visibility = (hidden) => {
      Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
      Object.defineProperty(document, 'visibilityState', { value: hidden ? 'hidden' : 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    const counts = [];
    visibility(true);
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    counts.push(writes);
    visibility(false); // back: visible again, a state save of its own
    counts.push(writes);
    visibility(true);
    window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    counts.push(writes);
    return counts;
  });
  assert.deepEqual(saves, [1, 2, 3], 'one state save per hide (and one for coming back), not one per event');
  await context.close();
});

test('onProfile calls a new listener once with the current profile, then every listener once per change', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
  await insightReady(page);
  const calls = await page.evaluate(async () => {
    const frames = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const calls = { first: [], second: [] };
    const tracker = window.cartsense;
    tracker.onProfile((profile) => calls.first.push(profile.session.events));
    await frames();
    const afterFirst = calls.first.length;
    tracker.onProfile((profile) => calls.second.push(profile.session.events));
    await frames();
    const afterSecond = [calls.first.length, calls.second.length];
    tracker.track('Product Viewed', { product_id: 'listener-probe', price: 1 });
    await frames();
    await frames(); // nothing changed since: nobody is called again
    return { afterFirst, afterSecond, first: calls.first, second: calls.second };
  });
  assert.equal(calls.afterFirst, 1, 'a listener is called once when registered, with the current profile');
  assert.deepEqual(calls.afterSecond, [1, 1], 'registering another calls only the new one');
  assert.equal(calls.first.length, 2, 'a change calls every listener once');
  assert.equal(calls.second.length, 2);
  assert.equal(calls.first[1], calls.first[0] + 1, 'with the profile after the change');
  await context.close();
});

for (const [what, file, warning, check] of [
  ['the autocapture module', 'autocapture.js', /cartsense: autocapture is unavailable/, (items) => tracks(items, 'Product Viewed').length == 0],
  // (The demo configures campaigns: its intelligence is the build with the campaign engine.)
  ['the session intelligence', 'cartsense_insight_campaigns_bg.wasm', /cartsense: session intelligence is unavailable/, () => true],
  // The campaigns' glue: the prompts are lost, the intelligence and the tracking are not.
  ['the campaigns glue', 'campaigns.js', /cartsense: campaigns are unavailable/, (items) => tracks(items, 'Prompt Shown').length == 0],
]) {
  test(`${what} failing to load (a 404) warns, and the tracker keeps tracking`, TEST_TIMEOUT, async () => {
    const context = await demo.browser.newContext();
    const page = await context.newPage();
    const log = watchPage(page);
    await page.route(`**/cartsense/${file}`, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }));
    await openDemo(page, `${demo.collector.url}product.html?id=${PRODUCT.id}`);
    await waitFor(`a console warning about ${file}`, () => log.some((line) => warning.test(line)));
    const tag = `${file}-missing`;
    await page.evaluate((tag) => window.cartsense.track('Module Missing', { tag }), tag);
    await flushPage(page);
    const items = await waitForItems(demo.collector.db, `the page view and the event tracked without ${file}`, (all) =>
      tracks(all, 'Module Missing', (p) => p.tag == tag).length == 1,
    );
    const visitor = await page.evaluate(() => window.cartsense.anonymousId);
    const mine = items.filter((item) => item.anonymousId == visitor);
    assert.equal(pages(mine, '/product.html').length, 1, 'the page view went before the module was even fetched');
    assert.ok(check(mine), `only what the missing module provides is missing: ${mine.map((i) => i.event || i.type)}`);
    if (file.includes('insight')) assert.equal(await page.evaluate(() => window.cartsense.profile()), null);
    if (file == 'campaigns.js') assert.notEqual(await page.evaluate(() => window.cartsense.profile()), null, 'the intelligence runs');
    await context.close();
  });
}
