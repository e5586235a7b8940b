// Scenario 3: events that could not be delivered are kept in localStorage, and a reload delivers
// them, exactly once, and then removes them from storage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickstream, useDemo, WWW, openDemo, watchPage, waitForItems, waitFor, settle, assertNoDuplicateIds, tracks, summarize,
  storedKeys, exportItems, recordBatchRequests, flushPage, TEST_TIMEOUT,
} from './harness.mjs';

const catalog = JSON.parse(readFileSync(join(WWW, 'catalog.json'), 'utf8'));

// A collector serving the demo, and a browser, for every test in this file.
const demo = useDemo();

/** The queued items in the page's localStorage, parsed, by messageId. */
const queuedItems = (page) =>
  page.evaluate(() =>
    Object.keys(localStorage)
      .filter((key) => key.startsWith('cartsense.q.'))
      .map((key) => ({ id: key.slice('cartsense.q.'.length), item: JSON.parse(localStorage.getItem(key)) })),
  );

test('reload with events still pending: they arrive after the reload, once, and leave storage', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  const log = watchPage(page);
  const attempts = recordBatchRequests(page);
  // Every delivery of the first page fails, beacons included.
  let refused = 0;
  const refuse = (route) => {
    refused++;
    return route.abort();
  };
  await page.route('**/v1/batch', refuse);

  await openDemo(page, demo.collector.url);
  await page.evaluate(() => {
    for (const n of [1, 2, 3]) window.cartsense.track('Reload Test', { n });
  });
  // A delivery was attempted and refused (flush forces one now instead of after flushInterval).
  await page.evaluate(() => void window.cartsense.flush());
  await waitFor('a refused delivery attempt', () => refused >= 1);

  const queued = await queuedItems(page);
  const reloadTests = queued.filter(({ item }) => item.event == 'Reload Test');
  assert.deepEqual(
    reloadTests.map(({ item }) => item.properties.n).sort(),
    [1, 2, 3],
    `the three events are in localStorage as cartsense.q.* (found ${queued.length} queued items)`,
  );
  for (const { id, item } of queued) assert.equal(item.messageId, id, 'a queue key names its item');
  assert.equal(exportItems(demo.collector.db).length, 0, 'nothing reached the demo.collector while deliveries failed');

  await page.unroute('**/v1/batch', refuse);
  await page.reload({ waitUntil: 'load' });
  await page.waitForFunction(() => document.documentElement.dataset.tracker == 'ready', null, { timeout: 15_000 });

  const queuedIds = queued.map(({ id }) => id);
  await waitForItems(
    demo.collector.db,
    `the ${queuedIds.length} events queued before the reload`,
    (items) => queuedIds.every((id) => items.some((item) => item.messageId == id)),
    { timeout: 20_000 },
  );
  await waitFor('the cartsense.q.* keys of the first page to be removed', async () => {
    const keys = await storedKeys(page);
    return queuedIds.every((id) => !keys.includes('cartsense.q.' + id));
  });
  // The reloaded page's own events are delivered too, and then no queue key is left at all.
  await flushPage(page);
  await waitFor('no cartsense.q.* key left after the reload', async () =>
    (await storedKeys(page)).every((key) => !key.startsWith('cartsense.q.')),
  );

  const final = await settle(demo.collector.db);
  const detail = `stored: ${summarize(final)}\nbatch requests: ${attempts.length}\npage log: ${log.join('\n')}`;
  assertNoDuplicateIds(final);
  assert.equal(tracks(final, 'Reload Test').length, 3, `each Reload Test event exactly once\n${detail}`);
  assert.deepEqual(tracks(final, 'Reload Test').map((item) => item.properties.n).sort(), [1, 2, 3], detail);
  for (const { id, item } of queued) {
    const stored = final.filter((s) => s.messageId == id);
    assert.equal(stored.length, 1, `${id} stored once\n${detail}`);
    assert.equal(stored[0].timestamp, item.timestamp, 'stored as it was queued (its original timestamp)');
  }
  // Both loads of / (a page view and a Product List Viewed per shelf each) and the three events.
  assert.equal(final.filter((item) => item.type == 'page').length, 2, detail);
  assert.equal(clickstream(final).length, 2 * (1 + catalog.categories.length) + 3, `nothing else, nothing twice\n${detail}`);
  await context.close();
});
