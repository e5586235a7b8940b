// Scenario 5: a 500, then a 429 with Retry-After: 2, then the real collector. The event is
// retried after the 500, waits the full 2 s the 429 asked for, and is stored exactly once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clickstream, useDemo, openDemo, within, settle, assertNoDuplicateIds, tracks, summarize, pendingOf, flushPage,
  exportItems, TEST_TIMEOUT,
} from './harness.mjs';

// A collector serving the demo, and a browser, for every test in this file.
const demo = useDemo();

test('a 500, then a 429 with Retry-After: 2: retried, the wait honoured, stored once', TEST_TIMEOUT, async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await openDemo(page, demo.collector.url);
  await flushPage(page); // the page's own events are out of the way
  assert.equal(await pendingOf(page), 0);
  const before = exportItems(demo.collector.db).length; // flush() resolved: acknowledged, so stored

  const requests = [];
  await page.route('**/v1/batch', async (route) => {
    const request = route.request();
    const ids = (JSON.parse(request.postData() || '{}').batch || []).map((item) => item.messageId);
    const entry = { at: Date.now(), ids };
    requests.push(entry);
    if (requests.length == 1) {
      entry.status = 500;
      return route.fulfill({ status: 500, contentType: 'application/json', body: '{"error":"test: 500"}' });
    }
    if (requests.length == 2) {
      entry.status = 429;
      return route.fulfill({
        status: 429,
        headers: { 'Retry-After': '2' },
        contentType: 'application/json',
        body: '{"error":"test: slow down"}',
      });
    }
    entry.status = 'collector';
    return route.fallback();
  });

  const started = Date.now();
  await within(
    'flush() to resolve through a 500 and a 429',
    page.evaluate(() => {
      window.cartsense.track('Retry Test', { tag: 'retry' });
      return window.cartsense.flush();
    }),
    20_000,
  );
  const took = Date.now() - started;
  const timeline = requests.map((r) => `${r.status} at +${r.at - started} ms [${r.ids.join(',')}]`).join('; ');

  const items = await settle(demo.collector.db);
  assertNoDuplicateIds(items);
  const stored = tracks(items, 'Retry Test');
  assert.equal(stored.length, 1, `stored exactly once: ${summarize(items)}\nrequests: ${timeline}`);
  assert.equal(clickstream(items).length, before + 1, `nothing else stored: ${summarize(items)}`);
  assert.equal(await pendingOf(page), 0, 'nothing waits after flush() resolved');

  assert.ok(requests.length >= 3, `a 500, a 429, then the collector: ${timeline}`);
  assert.deepEqual(
    requests.slice(0, 3).map((r) => r.status),
    [500, 429, 'collector'],
    `the sequence of answers: ${timeline}`,
  );
  assert.equal(requests.length, 3, `one request per answer, no extra attempts: ${timeline}`);
  for (const r of requests) {
    assert.deepEqual(r.ids, [stored[0].messageId], `every attempt carries the same event with the same messageId: ${timeline}`);
  }
  const afterRetryAfter = requests[2].at - requests[1].at;
  assert.ok(afterRetryAfter >= 2000, `the retry after the 429 waited ${afterRetryAfter} ms, Retry-After asked for 2000: ${timeline}`);
  assert.ok(took >= 2000, `flush() resolved after ${took} ms; it must wait out Retry-After`);
  await context.close();
});
