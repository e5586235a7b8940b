// The npm package as a consumer gets it: `npm pack`, installed from the tarball into a fresh
// project, then imported during SSR, loaded as plain ESM from another origin, and bundled by
// Vite with no configuration. Every browser test checks what the collector stored.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  clickstream, REPO, requireBuilt, tempDir, removeTempDir, run, startCollector, startStaticServer, launchBrowser, watchPage,
  waitForItems, waitFor, within, settle, assertNoDuplicateIds, tracks, pages, summarize, TEST_TIMEOUT,
} from '../e2e/harness.mjs';

const EXPECTED_FILES = [
  'package.json',
  'pkg/autocapture.js',
  'pkg/campaigns.js',
  'pkg/cartsense_insight.js',
  'pkg/cartsense_insight_bg.wasm',
  'pkg/cartsense_insight_campaigns.js',
  'pkg/cartsense_insight_campaigns_bg.wasm',
  'pkg/cartsense_recs.js',
  'pkg/cartsense_recs_bg.wasm',
  'pkg/cartsense_tracker.js',
  'pkg/cartsense_tracker_bg.wasm',
  'pkg/index.d.ts',
  'pkg/index.js',
  'pkg/insight.js',
  'pkg/prompt.js',
  'pkg/recs-widget.js',
  'pkg/recs.js',
];
const OPTIONAL_FILES = ['README.md'];

/** The module script of a consumer page: starts a tracker (endpoint and write key from the
 * query), records a page view, offers `trackTags(tags)`, and flags <html data-tracker>. */
const consumerScript = (importFrom) => `import { init } from '${importFrom}';
const params = new URLSearchParams(location.search);
window.trackTags = (tags) => tags.forEach((tag) => window.tracker.track('Package Test', { tag }));
init({ endpoint: params.get('endpoint'), writeKey: params.get('key') }).then(
  (tracker) => {
    window.tracker = tracker;
    tracker.page();
    document.documentElement.dataset.tracker = 'ready';
  },
  (error) => {
    window.initError = String(error && error.message || error);
    document.documentElement.dataset.tracker = 'off';
  },
);
`;

let work, tarball, project, browser;

before(async () => {
  requireBuilt({ demo: false });
  work = tempDir('cartsense-pack-');
  // Pack what a publish would publish, and install it like a consumer would.
  // (The JSON is the last thing on stdout; a prepack script may print before it.)
  const out = run('npm', ['pack', '--pack-destination', work, '--json', '--silent'], { cwd: REPO });
  const packed = JSON.parse(out.slice(out.search(/^\[/m)));
  tarball = join(work, packed[0].filename);
  project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  run('npm', ['install', tarball, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project });
  assert.ok(existsSync(join(project, 'node_modules', 'cartsense', 'pkg', 'index.js')), 'cartsense is installed from the tarball');
  // A consumer page loading the installed package as plain ESM (used by two tests below).
  writeFileSync(
    join(project, 'esm.html'),
    `<!doctype html><meta charset="utf-8"><title>plain ESM consumer</title>\n<script type="module">\n${consumerScript('./node_modules/cartsense/pkg/index.js')}</script>\n`,
  );
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  if (work) removeTempDir(work);
});

test('the tarball holds exactly the package files', TEST_TIMEOUT, () => {
  const listing = run('tar', ['-tzf', tarball])
    .split('\n')
    .filter(Boolean)
    .map((entry) => entry.replace(/^package\//, ''))
    .filter((entry) => !entry.endsWith('/'))
    .sort();
  const unexpected = listing.filter((file) => !EXPECTED_FILES.includes(file) && !OPTIONAL_FILES.includes(file));
  assert.deepEqual(unexpected, [], 'files that must not be published (sources, tests, build output)');
  assert.deepEqual(
    EXPECTED_FILES.filter((file) => !listing.includes(file)),
    [],
    'files missing from the tarball',
  );
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'cartsense', 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'cartsense');
});

test('SSR: importing in Node does not throw, and init() says it needs a browser', TEST_TIMEOUT, () => {
  const script = `
    const cartsense = await import('cartsense');
    const out = { exports: Object.keys(cartsense).sort(), initType: typeof cartsense.init };
    try {
      await cartsense.init({ endpoint: '/v1/batch' });
      out.init = 'resolved';
    } catch (error) {
      out.init = { isError: error instanceof Error, message: error.message };
    }
    console.log(JSON.stringify(out));
  `;
  const out = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], { cwd: project }).trim().split('\n').pop());
  assert.equal(out.initType, 'function', `exports: ${out.exports}`);
  assert.equal(typeof out.init, 'object', `init() must reject outside a browser, got: ${JSON.stringify(out.init)}`);
  assert.equal(out.init.isError, true);
  assert.match(out.init.message, /needs a browser/);
});

async function openConsumer(page, url) {
  await page.goto(url, { waitUntil: 'load' });
  await consumerReady(page);
}

async function consumerReady(page) {
  const url = page.url();
  await page.waitForFunction(() => document.documentElement.dataset.tracker, null, { timeout: 15_000 }).catch((error) => {
    throw new Error(`timed out waiting for ${url} to start the tracker: ${error.message}`);
  });
  const state = await page.evaluate(() => [document.documentElement.dataset.tracker, window.initError]);
  assert.deepEqual(state, ['ready', undefined], `init() on ${url}`);
}

/** Checks that each tag is stored exactly once and there is nothing else but `pageViews` page views. */
async function assertStoredOnce(db, tags, pageViews, path) {
  await waitForItems(db, `Package Test events ${tags.join(', ')}`, (items) =>
    tags.every((tag) => tracks(items, 'Package Test', (p) => p.tag == tag).length >= 1),
  );
  const items = await settle(db);
  const detail = `stored: ${summarize(items)}`;
  assertNoDuplicateIds(items);
  for (const tag of tags) {
    assert.equal(tracks(items, 'Package Test', (p) => p.tag == tag).length, 1, `${tag} stored exactly once\n${detail}`);
  }
  assert.equal(pages(items, path).length, pageViews, `${pageViews} page views of ${path}\n${detail}`);
  assert.equal(clickstream(items).length, tags.length + pageViews, `nothing else stored\n${detail}`);
  for (const item of items) assert.equal(item.context.library.name, 'cartsense');
  return items;
}

test('plain ESM on another origin: the installed entry finds its .wasm; reload and close lose nothing', TEST_TIMEOUT, async () => {
  const site = await startStaticServer(project);
  const collector = await startCollector({ allowOrigins: [site.origin] });
  try {
    assert.notEqual(site.origin, collector.origin, 'the page and the collector are different origins');
    const context = await browser.newContext();
    const page = await context.newPage();
    const log = watchPage(page);
    const url = `${site.origin}/esm.html?endpoint=${encodeURIComponent(collector.batchUrl)}&key=plain-esm`;

    await openConsumer(page, url);
    assert.ok(
      site.requests.some(([, path]) => path == '/node_modules/cartsense/pkg/cartsense_tracker_bg.wasm'),
      `the .wasm is loaded from next to the entry: ${site.requests.map(([, p]) => p).join(', ')}`,
    );
    await page.evaluate(() => window.trackTags(['esm-1', 'esm-2']));
    // One batch through fetch (a CORS preflight with Authorization), to check the happy path.
    await within('flush() on the plain ESM page', page.evaluate(() => window.tracker.flush()));
    await page.evaluate(() => window.trackTags(['esm-3', 'esm-4'])); // pending when the page reloads
    await page.reload({ waitUntil: 'load' });
    await consumerReady(page);
    await page.evaluate(() => window.trackTags(['esm-5', 'esm-6'])); // pending when the tab closes
    await page.close({ runBeforeUnload: true });

    const tags = ['esm-1', 'esm-2', 'esm-3', 'esm-4', 'esm-5', 'esm-6'];
    const items = await assertStoredOnce(collector.db, tags, 2, '/esm.html').catch((error) => {
      error.message += `\npage log: ${log.join('\n')}`;
      throw error;
    });
    assert.equal(new Set(items.map((item) => item.anonymousId)).size, 1, 'one visitor across the reload');
    await context.close();
  } finally {
    await collector.stop();
    await site.close();
  }
});

test('Vite: bundles the package with no configuration, emits the .wasm, and the events arrive', TEST_TIMEOUT, async () => {
  const app = join(project, 'vite-app');
  mkdirSync(app, { recursive: true });
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html><meta charset="utf-8"><title>Vite consumer</title>\n<script type="module" src="./main.js"></script>\n',
  );
  writeFileSync(join(app, 'main.js'), consumerScript('cartsense'));
  // The repo's Vite (a devDependency), run on the consumer project: 'cartsense' resolves from
  // the consumer's node_modules, as in a real app. No vite.config.
  const viteBin = join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');
  assert.ok(existsSync(viteBin), `${viteBin} is missing: run npm install in the repo`);
  run(process.execPath, [viteBin, 'build', '--logLevel', 'warn'], { cwd: app, timeout: 120_000 });

  const dist = join(app, 'dist');
  const assets = readdirSync(join(dist, 'assets'));
  // The four modules, the tracker, the session intelligence without and with the campaign
  // engine, and the recommendations, are emitted as they are; this page (no campaigns, no
  // recommendations) loads the first two.
  const wasm = assets.filter((file) => file.endsWith('.wasm'));
  assert.equal(wasm.length, 4, `four .wasm files emitted into dist/assets: ${assets.join(', ')}`);
  const emittedAs = {};
  for (const module of ['tracker', 'insight', 'insight_campaigns', 'recs']) {
    const packaged = readFileSync(join(project, 'node_modules', 'cartsense', 'pkg', `cartsense_${module}_bg.wasm`));
    const emitted = wasm.filter((file) => readFileSync(join(dist, 'assets', file)).equals(packaged));
    assert.equal(emitted.length, 1, `the ${module} .wasm is emitted unchanged`);
    emittedAs[module] = emitted[0];
  }

  const site = await startStaticServer(dist);
  const collector = await startCollector({ allowOrigins: [site.origin] });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    const log = watchPage(page);
    await openConsumer(page, `${site.origin}/?endpoint=${encodeURIComponent(collector.batchUrl)}&key=vite`);
    for (const file of [emittedAs.tracker, emittedAs.insight]) {
      await waitFor(`the bundle to load ${file}`, () => site.requests.some(([, path]) => path == `/assets/${file}`));
    }
    await page.evaluate(() => window.trackTags(['vite-1', 'vite-2']));
    await within('flush() on the Vite page', page.evaluate(() => window.tracker.flush()));
    assert.ok(
      !site.requests.some(([, path]) => path == `/assets/${emittedAs.insight_campaigns}`),
      'a page without campaigns does not download the campaign engine',
    );
    assert.ok(
      !site.requests.some(([, path]) => path == `/assets/${emittedAs.recs}`),
      'a page that does not call loadRecommendations does not download the recommendations',
    );
    await assertStoredOnce(collector.db, ['vite-1', 'vite-2'], 1, '/').catch((error) => {
      error.message += `\npage log: ${log.join('\n')}`;
      throw error;
    });
    await context.close();
  } finally {
    await collector.stop();
    await site.close();
  }
});

test('the error messages quoted in the shipped index.d.ts are the ones thrown', TEST_TIMEOUT, async () => {
  // The types are the API documentation editors show; a message quoted there is a promise.
  const types = readFileSync(join(project, 'node_modules', 'cartsense', 'pkg', 'index.d.ts'), 'utf8');
  const quoted = [...types.matchAll(/`"((?:init|Product Added): [^"`]+)"`/g)].map((m) => m[1]);
  const initQuote = quoted.find((m) => m.startsWith('init: flushAt'));
  const trackQuote = quoted.find((m) => m.startsWith('Product Added: price'));
  assert.ok(initQuote && trackQuote, `index.d.ts quotes the init and track errors: ${quoted.join(' | ')}`);

  const site = await startStaticServer(project);
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openConsumer(page, `${site.origin}/esm.html?endpoint=${encodeURIComponent(site.origin + '/nowhere')}&key=types`);
    const thrown = await page.evaluate(async () => {
      const { init } = await import('./node_modules/cartsense/pkg/index.js');
      const out = {};
      try {
        await init({ endpoint: '/v1/batch', flushAt: 0 });
      } catch (error) {
        out.init = error.message;
      }
      try {
        window.tracker.track('Product Added', { product_id: 'p', price: NaN });
      } catch (error) {
        out.track = error.message;
      }
      return out;
    });
    assert.equal(thrown.track, trackQuote, 'index.d.ts (Tracker.track) quotes the message track() throws');
    assert.equal(thrown.init, initQuote, 'index.d.ts (init) quotes the message init() rejects with');
    await context.close();
  } finally {
    await site.close();
  }
});
