// Shared helpers for the end-to-end and packaging tests: the collector (start, stop, export),
// Chromium (playwright-core, the system's /usr/bin/chromium, never a downloaded browser), a
// small static server, temp directories, and polling with a timeout that says what it waited for.
//
// The tests assume the build has run (scripts/test.sh builds first):
//   bash scripts/build.sh                          → pkg/ and www/cartsense/
//   cargo build --release -p cartsense-collector   → target/release/cartsense-collector
// Every process started here is registered and killed when the test process exits, even on
// failure; every temp directory is removed.

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const COLLECTOR_BIN = join(REPO, 'target', 'release', 'cartsense-collector');
export const WWW = join(REPO, 'www');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const BUILD_HINT =
  'build first: `bash scripts/build.sh && cargo build --release -p cartsense-collector && bash scripts/demo-model.sh`';

/** Fails with a clear message when an artifact the tests need has not been built. */
export function requireBuilt({ collector = true, pkg = true, demo = true, browser = true, recsModel = false } = {}) {
  const needed = [];
  if (pkg) {
    needed.push('pkg/index.js', 'pkg/cartsense_tracker.js', 'pkg/cartsense_tracker_bg.wasm', 'pkg/autocapture.js');
    needed.push('pkg/insight.js', 'pkg/cartsense_insight.js', 'pkg/cartsense_insight_bg.wasm', 'pkg/index.d.ts', 'pkg/prompt.js');
    needed.push('pkg/campaigns.js', 'pkg/cartsense_insight_campaigns.js', 'pkg/cartsense_insight_campaigns_bg.wasm');
    needed.push('pkg/recs.js', 'pkg/recs-widget.js', 'pkg/cartsense_recs.js', 'pkg/cartsense_recs_bg.wasm');
  }
  if (recsModel && !existsSync(join(REPO, 'www/recs.bin'))) {
    // The demo's recommendations model: built here when missing (a clean clone), as npm start does.
    const built = spawnSync('bash', ['scripts/demo-model.sh'], { cwd: REPO, stdio: 'inherit' });
    if (built.status != 0) needed.push('www/recs.bin (bash scripts/demo-model.sh failed)');
  }
  if (demo) needed.push('www/cartsense/index.js', 'www/cartsense/cartsense_tracker_bg.wasm');
  if (collector) needed.push('target/release/cartsense-collector');
  const missing = needed.filter((file) => !existsSync(join(REPO, file)));
  if (browser && !existsSync(CHROMIUM)) missing.push(CHROMIUM + ' (install Debian chromium: scripts/setup.sh)');
  if (missing.length) throw new Error(`missing ${missing.join(', ')}; ${BUILD_HINT}`);
}

// ---------- processes and temp dirs, cleaned up even on failure ----------

const children = new Set();
const tempDirs = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the process exits (or earlier by `removeTempDir`). */
export function tempDir(prefix = 'cartsense-test-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

// ---------- polling ----------

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * Polls `check` (sync or async) until it returns a truthy value, and returns that value.
 * A `check` that throws counts as "not yet"; its last error is quoted on timeout.
 * On timeout: an Error naming `what`, the time waited and the last value or error seen.
 */
export async function waitFor(what, check, { timeout = 15_000, interval = 100 } = {}) {
  const started = Date.now();
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started >= timeout) {
      const detail = last instanceof Error ? `last error: ${last.message}` : `last value: ${describe(last)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (${detail})`);
    }
    await sleep(interval);
  }
}

const describe = (value) => {
  try {
    const text = JSON.stringify(value);
    return text && text.length > 400 ? text.slice(0, 400) + '…' : text;
  } catch {
    return String(value);
  }
};

/** Races `promise` against a timeout that names `what`. */
export async function within(what, promise, timeout = 15_000) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms waiting for ${what}`)), timeout);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------- the collector ----------

/**
 * Starts `cartsense-collector serve` and resolves once it printed its listening line.
 * Options: port (0: any free port), db (default: a new temp file), www (a directory to serve),
 * allowOrigins (array). Returns { url, origin, port, db, stop(), exitCode() }.
 */
export async function startCollector({ port = 0, db, www, allowOrigins = [], timeout = 10_000 } = {}) {
  if (!existsSync(COLLECTOR_BIN)) throw new Error(`missing ${COLLECTOR_BIN}; ${BUILD_HINT}`);
  db ??= join(tempDir('cartsense-db-'), 'events.db');
  const args = ['serve', '--addr', `127.0.0.1:${port}`, '--db', db];
  if (www) args.push('--www', www);
  for (const origin of allowOrigins) args.push('--allow-origin', origin);
  const child = spawn(COLLECTOR_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  let exited = null;
  const exit = new Promise((done) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      children.delete(child);
      done(exited);
    }),
  );
  const listening = new Promise((done, fail) => {
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (http:\/\/[^/\s]+)\//.exec(stdout);
      if (match) done(match[1]);
    });
    child.on('error', fail);
    exit.then(({ code, signal }) =>
      fail(new Error(`cartsense-collector exited (code ${code}, signal ${signal}) before listening: ${stderr.trim()}`)),
    );
  });
  let origin;
  try {
    origin = await within(`cartsense-collector ${args.join(' ')} to print its listening line`, listening, timeout);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const actualPort = Number(new URL(origin).port);
  return {
    origin,
    url: origin + '/',
    batchUrl: origin + '/v1/batch',
    port: actualPort,
    db,
    stderr: () => stderr,
    exitCode: () => exited,
    /** SIGTERM (graceful), then SIGKILL if it has not exited within `grace` ms. */
    async stop({ grace = 10_000 } = {}) {
      if (exited) return exited;
      child.kill('SIGTERM');
      try {
        return await within('cartsense-collector to exit after SIGTERM', exit, grace);
      } catch (error) {
        child.kill('SIGKILL');
        await exit;
        throw error;
      }
    },
  };
}

/** Every item the collector stored, parsed, in receive order (`cartsense-collector export`). */
export function exportItems(db) {
  if (!existsSync(db)) return [];
  const run = spawnSync(COLLECTOR_BIN, ['export', '--db', db], { encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0) throw new Error(`cartsense-collector export --db ${db} failed (${run.status}): ${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

/** Polls the export until `check(items)` is truthy; returns the items. */
export async function waitForItems(db, what, check, options) {
  let items = [];
  await waitFor(
    what,
    () => {
      items = exportItems(db);
      return check(items);
    },
    options,
  ).catch((error) => {
    error.message += `\nstored so far (${items.length}): ${summarize(items)}`;
    throw error;
  });
  return items;
}

/** One line per item: type, event or path, and the test markers, for failure messages. */
/** The list ids of the recommendation widgets' events: the kind, or `similar:<product>`. */
const RECS_LIST = /^(similar|bought_together|for_you|recently_viewed|cart_completion)(:|$)/;

/** Whether an item is a recommendation widget's `Product List Viewed` or `Product Clicked`. */
export const isRecsWidgetEvent = (item) =>
  (item.event == 'Product List Viewed' || item.event == 'Product Clicked') && RECS_LIST.test(item.properties?.list_id ?? '');

/** The items a page tracked, without the session summaries the tracker adds when the
 * visitor leaves, and without the recommendation widgets' list views and clicks: the demo fills
 * its shelves once its model (www/recs.bin) has loaded and refills them as the profile changes,
 * at times that depend on the modules loading, so counts of the visit's own events leave them
 * out (tests of those, recs-api and recs-widget, look at them on their own). */
export function clickstream(items) {
  return items.filter((item) => item.event != 'Session Summarized' && !isRecsWidgetEvent(item));
}

export function summarize(items) {
  return items
    .map((item) => {
      const what = item.type == 'track' ? item.event : item.type == 'page' ? `page ${item.context?.page?.path}` : item.type;
      const marks = ['n', 'tag', 'product_id'].filter((k) => item.properties?.[k] != null).map((k) => `${k}=${item.properties[k]}`);
      return `[${what}${marks.length ? ' ' + marks.join(' ') : ''}]`;
    })
    .join(' ');
}

/** Asserts no messageId is stored twice. */
export function assertNoDuplicateIds(items) {
  const seen = new Map();
  for (const item of items) {
    assert.ok(typeof item.messageId == 'string' && item.messageId, `item without a messageId: ${JSON.stringify(item)}`);
    seen.set(item.messageId, (seen.get(item.messageId) || 0) + 1);
  }
  const twice = [...seen].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'messageIds stored more than once');
}

/** Items of a track event (optionally filtered by a property predicate). */
export const tracks = (items, event, where = () => true) =>
  items.filter((item) => item.type == 'track' && item.event == event && where(item.properties || {}));

/** Page items for a path. */
export const pages = (items, path) => items.filter((item) => item.type == 'page' && item.context?.page?.path == path);

// ---------- a static server (another origin), optionally proxying /v1/batch ----------

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.ts': 'text/plain',
};

/**
 * Serves `root` on 127.0.0.1 (a port of its own: another origin than the collector).
 * `proxyBatchTo`: a port; POST /v1/batch is forwarded there, and when nothing listens the
 * client's connection is cut (the page sees a network error, as with the collector down).
 * Returns { origin, port, requests (log of [method, path]), close() }.
 */
export async function startStaticServer(root, { proxyBatchTo } = {}) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push([req.method, path]);
    if (proxyBatchTo && path == '/v1/batch') {
      const upstream = httpRequest(
        { host: '127.0.0.1', port: proxyBatchTo, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => req.socket.destroy());
      req.pipe(upstream);
      return;
    }
    let file = normalize(join(root, path));
    if (file != root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

// ---------- Chromium ----------

/** Launches the system Chromium headless (never a downloaded browser). */
/** A copy of the demo shop (www/) without its recommendations model, for tests of the visit's
 * own events: its shelves stay empty and send nothing. Removed when the process exits. */
export function demoWithoutModel() {
  const www = tempDir('cartsense-demo-');
  cpSync(WWW, www, { recursive: true, filter: (source) => source != join(WWW, 'recs.bin') });
  return www;
}

/** A collector serving the demo shop and a browser, started before this file's tests and
 * stopped after them: `demo.collector`, `demo.browser`. The demo is served without its
 * recommendations model unless `recs`: its shelves then stay empty and send nothing, so the
 * tests of the visit's own events count exactly those (recs-widget and recs-api test the
 * recommendations). */
export function useDemo({ recs = false } = {}) {
  const demo = {};
  before(async () => {
    requireBuilt();
    demo.collector = await startCollector({ www: recs ? WWW : demoWithoutModel() });
    demo.browser = await launchBrowser();
  });
  after(async () => {
    await demo.browser?.close().catch(() => {});
    await demo.collector?.stop();
  });
  return demo;
}

export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}

/** Console errors and page errors of a page, kept for failure messages. */
export function watchPage(page) {
  const log = [];
  page.on('console', (message) => {
    if (message.type() == 'error' || message.type() == 'warning') log.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => log.push(`pageerror: ${error.message}`));
  return log;
}

/**
 * The blank fixture page (tests/e2e/fixtures/blank.html) in a new context of `demo.browser`,
 * served with the built package by a static server whose POST /v1/batch goes to
 * `demo.collector`; the server and the context are closed after test `t`.
 * Returns { site (see startStaticServer), context, page, log (see watchPage) }.
 */
export async function openBlankPage(t, demo) {
  const site = await startStaticServer(REPO, { proxyBatchTo: demo.collector.port });
  t.after(() => site.close());
  const context = await demo.browser.newContext();
  t.after(() => context.close().catch(() => {}));
  const page = await context.newPage();
  const log = watchPage(page);
  await page.goto(site.origin + '/tests/e2e/fixtures/blank.html', { waitUntil: 'load' });
  return { site, context, page, log };
}

/**
 * Navigates to a demo page and waits for the shop (`<html data-ready>`) and the tracker
 * (`<html data-tracker>`) to settle; fails if the tracker is off, quoting why.
 */
export async function openDemo(page, url, { expectTracker = 'ready' } = {}) {
  await page.goto(url, { waitUntil: 'load', timeout: 15_000 });
  await waitForDemo(page, { expectTracker });
}

export async function waitForDemo(page, { expectTracker = 'ready' } = {}) {
  await page
    .waitForFunction(() => document.documentElement.dataset.ready && document.documentElement.dataset.tracker, null, {
      timeout: 15_000,
    })
    .catch((error) => {
      throw new Error(`timed out waiting for the demo page ${page.url()} to set <html data-ready data-tracker>: ${error.message}`);
    });
  const state = await page.evaluate(() => ({
    tracker: document.documentElement.dataset.tracker,
    error: String(window.cartsenseError?.message || window.cartsenseError || ''),
  }));
  assert.equal(state.tracker, expectTracker, `tracker state on ${page.url()} (cartsenseError: ${state.error})`);
}

/** The page's `cartsense.*` localStorage entries. */
export const storedKeys = (page) =>
  page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('cartsense.')).sort());

/** `window.cartsense.pending`, or null when there is no tracker. */
export const pendingOf = (page) => page.evaluate(() => (window.cartsense ? window.cartsense.pending : null));

// ---------- commands ----------

/** Runs a command synchronously, throwing with its output when it fails. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 180_000, ...options });
  if (result.error) throw new Error(`${command} ${args.join(' ')}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

// ---------- settling and negative checks ----------

/**
 * Waits until the number of stored items has stayed the same for `quiet` ms (whatever was in
 * the air, a beacon or a retry, has landed), and returns the items.
 */
export async function settle(db, { quiet = 1500, timeout = 15_000 } = {}) {
  let items = exportItems(db);
  let last = items.length;
  let since = Date.now();
  await waitFor(
    `the stored items to stop changing for ${quiet} ms`,
    () => {
      items = exportItems(db);
      if (items.length != last) [last, since] = [items.length, Date.now()];
      return Date.now() - since >= quiet;
    },
    { timeout },
  );
  return items;
}

/**
 * For a negative check ("nothing is sent"): watches the store for `ms` and fails as soon as
 * anything is stored. A bounded observation, not a sleep: it ends early on a failure.
 */
export async function assertNothingStoredFor(db, ms, why) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const items = exportItems(db);
    assert.equal(items.length, 0, `${why}: yet the collector stored ${summarize(items)}`);
    await sleep(200);
  }
}

/** Every `/v1/batch` request a page (or its whole context) makes, for asserting on traffic. */
export function recordBatchRequests(target) {
  const seen = [];
  target.on('request', (request) => {
    if (new URL(request.url()).pathname.endsWith('/v1/batch')) seen.push({ at: Date.now(), type: request.resourceType() });
  });
  return seen;
}

/** `await window.cartsense.flush()` in the page, bounded by a timeout that says so. */
export const flushPage = (page, timeout = 20_000) =>
  within(`window.cartsense.flush() to resolve on ${page.url()}`, page.evaluate(() => window.cartsense.flush()), timeout);

/** Per-test limit: a hung browser call fails the test instead of hanging the run. */
export const TEST_TIMEOUT = { timeout: 120_000 };
