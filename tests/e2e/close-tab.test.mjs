// Scenario 4: closing the tab right after tracking delivers the last events (sendBeacon or
// fetch keepalive on pagehide); no flush(), no other page left to send them later.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clickstream, useDemo, openDemo, waitForItems, settle, assertNoDuplicateIds, tracks, summarize, pendingOf, flushPage,
  exportItems, TEST_TIMEOUT,
} from './harness.mjs';

// A collector serving the demo, and a browser, for every test in this file.
const demo = useDemo();

test('closing the tab delivers the events tracked just before', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, demo.collector.url);
  // The page's own autocapture events first, so that what is left is only what we track.
  await flushPage(page);
  // The session intelligence (loaded after the first event) is ready, so leaving makes a summary.
  await page.waitForFunction(() => window.cartsense.profile() !== null, null, { timeout: 10_000 });
  const before = exportItems(demo.collector.db).length; // flush() resolved: acknowledged, so stored
  assert.equal(await pendingOf(page), 0, 'nothing waits before the test events');

  // Track and, in the same task, read the ids they were queued with: nothing can be sent in
  // between (the batch is not full and flushInterval has not passed).
  const queued = await page.evaluate(() => {
    for (const n of [1, 2, 3]) window.cartsense.track('Tab Closed', { n });
    return { pending: window.cartsense.pending, ids: Object.keys(localStorage).filter((k) => k.startsWith('cartsense.q.')) };
  });
  await page.close({ runBeforeUnload: true });
  assert.equal(queued.pending, 3, 'the three events were waiting when the tab closed');
  const ids = queued.ids.map((key) => key.slice('cartsense.q.'.length));
  assert.equal(ids.length, 3);

  await waitForItems(demo.collector.db, 'the 3 Tab Closed events after the tab closed', (items) =>
    ids.every((id) => items.some((item) => item.messageId == id)),
  );
  const items = await settle(demo.collector.db);
  assertNoDuplicateIds(items);
  const closed = tracks(items, 'Tab Closed');
  assert.deepEqual(closed.map((item) => item.properties.n).sort(), [1, 2, 3], `each once: ${summarize(items)}`);
  assert.deepEqual(closed.map((item) => item.messageId).sort(), [...ids].sort());
  assert.equal(clickstream(items).length, before + 3, `nothing else arrived: ${summarize(items)}`);
  assert.equal(tracks(items, 'Session Summarized').length, 1, `leaving made the session's summary: ${summarize(items)}`);
  await context.close();
});
