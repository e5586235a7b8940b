// Scenario 7: bad input is refused with a precise Error, and the tracker keeps working.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clickstream, useDemo, openDemo, within, settle, assertNoDuplicateIds, tracks, summarize, pendingOf, flushPage,
  exportItems, TEST_TIMEOUT,
} from './harness.mjs';

// A collector serving the demo, and a browser, for every test in this file.
const demo = useDemo();

test('bad input throws a precise Error, and the tracker keeps tracking', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, demo.collector.url);
  await flushPage(page);
  const before = exportItems(demo.collector.db).length; // flush() resolved: acknowledged, so stored

  const outcome = await within(
    'the bad-input calls in the page',
    page.evaluate(async () => {
      const caught = (error) => ({ isError: error instanceof Error, message: String(error?.message ?? error) });
      const out = {};
      const pendingBefore = window.cartsense.pending;
      try {
        window.cartsense.track('Product Added', { product_id: 'p', price: NaN });
        out.track = 'did not throw';
      } catch (error) {
        out.track = caught(error);
      }
      out.queuedByBadTrack = window.cartsense.pending - pendingBefore;
      const { init } = await import('/cartsense/index.js');
      try {
        await init({ endpoint: '/v1/batch', flushAt: 0 });
        out.init = 'resolved';
      } catch (error) {
        out.init = caught(error);
      }
      // After both errors, the tracker keeps tracking.
      window.cartsense.track('After Bad Input', { tag: 'still-tracking' });
      await window.cartsense.flush();
      return out;
    }),
  );

  assert.deepEqual(outcome.track, { isError: true, message: 'Product Added: price must be a finite, non-negative number' });
  assert.equal(outcome.queuedByBadTrack, 0, 'the refused event is not queued');
  assert.deepEqual(outcome.init, { isError: true, message: 'init: flushAt must be a whole number from 1 to 500' });

  const items = await settle(demo.collector.db);
  assertNoDuplicateIds(items);
  assert.equal(tracks(items, 'After Bad Input').length, 1, `the valid event after the errors is stored once: ${summarize(items)}`);
  assert.equal(tracks(items, 'Product Added').length, 0, `the invalid event is not stored: ${summarize(items)}`);
  assert.equal(clickstream(items).length, before + 1, `nothing else stored: ${summarize(items)}`);
  assert.equal(await pendingOf(page), 0);
  await context.close();
});
