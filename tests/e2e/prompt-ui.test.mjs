// The default prompt UI (pkg/prompt.js, as built) in Chromium, on a small shop page
// (fixtures/prompt.html): an accessible modal dialog a keyboard user can work and leave, that
// shifts nothing while it opens, shows campaign and product data as text only, follows the
// visitor's reduced-motion setting and the shop's theme, copies the code, and shows one prompt
// at a time. Also: importing it outside a browser does not throw.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  REPO, CHROMIUM, launchBrowser, startStaticServer, watchPage, waitFor, sleep, TEST_TIMEOUT,
} from './harness.mjs';

const PROMPT_JS = join(REPO, 'pkg', 'prompt.js');
const FIXTURE = '/tests/e2e/fixtures/prompt.html';
const COUPON = {
  promptId: 'p-1',
  campaignId: 'exit-coupon',
  title: 'Leaving already?',
  message: 'Take 10% off the linen shirt in your cart.',
  code: 'LINEN10',
  cta: 'Back to my cart',
  offer: { kind: 'percent', value: 10 },
};

let server, browser;

before(async () => {
  if (!existsSync(PROMPT_JS)) throw new Error('missing pkg/prompt.js; build first: `bash scripts/build.sh`');
  if (!existsSync(CHROMIUM)) throw new Error(`missing ${CHROMIUM} (install Debian chromium: scripts/setup.sh)`);
  server = await startStaticServer(REPO);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.close();
});

/** A fresh context on the fixture page, closed after the test. */
async function openFixture(t, { clipboard = false, initScript } = {}) {
  const context = await browser.newContext();
  t.after(() => context.close().catch(() => {}));
  if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
  const page = await context.newPage();
  const log = watchPage(page);
  if (initScript) await page.addInitScript(initScript);
  await page.goto(server.origin + FIXTURE, { waitUntil: 'load', timeout: 15_000 });
  await page.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout: 15_000 });
  return { page, log };
}

const show = (page, prompt, labels) => page.evaluate(([p, l]) => window.show(p, l), [prompt, labels]);
const calls = (page) => page.evaluate(() => window.calls);

/** What has focus, looking into shadow roots: the prompt's `part` name, or the shop element's id. */
const focused = (page) =>
  page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    return element?.getAttribute('part') || element?.id || element?.tagName;
  });

/** The prompt as the page has it: null when none is in the document. */
const promptState = (page) =>
  page.evaluate(() => {
    const hosts = document.querySelectorAll('cartsense-prompt');
    if (!hosts.length) return null;
    const root = hosts[0].shadowRoot;
    const dialog = root.querySelector('dialog');
    const byId = (attribute) => root.getElementById(dialog.getAttribute(attribute) || '')?.textContent ?? null;
    return {
      hosts: hosts.length,
      open: dialog.open,
      modal: dialog.matches(':modal'),
      role: dialog.getAttribute('role'),
      ariaModal: dialog.getAttribute('aria-modal'),
      labelledBy: byId('aria-labelledby'),
      describedBy: byId('aria-describedby'),
      parts: [...root.querySelectorAll('[part]')].map((element) => [element.getAttribute('part'), element.textContent]),
    };
  });

test('an accessible dialog: role, name and description, focus moved in and given back, close button', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openFixture(t);
  await page.focus('#shop-button');
  assert.equal(await show(page, COUPON), true, 'the prompt shows');

  const state = await promptState(page);
  assert.equal(state.open && state.modal, true, `an open modal dialog: ${JSON.stringify(state)}`);
  assert.equal(state.role, 'dialog');
  assert.equal(state.ariaModal, 'true');
  assert.equal(state.labelledBy, COUPON.title, 'aria-labelledby names the title');
  assert.equal(state.describedBy, COUPON.message, 'aria-describedby names the message');
  // What assistive technology gets: a dialog named by its title, with named buttons.
  const dialog = page.getByRole('dialog', { name: COUPON.title });
  assert.equal(await dialog.count(), 1, 'one dialog named by the title');
  for (const name of ['Close', 'Copy code', COUPON.cta]) {
    assert.equal(await dialog.getByRole('button', { name, exact: true }).count(), 1, `a button named "${name}"`);
  }
  assert.equal(await focused(page), 'copy', 'focus moved into the dialog, on its first action');

  await dialog.getByRole('button', { name: 'Close' }).click();
  assert.equal(await promptState(page), null, 'the close button removes the prompt');
  assert.deepEqual(await calls(page), [['dismiss', 'p-1']], 'onDismiss once, nothing else');
  assert.equal(await focused(page), 'shop-button', 'focus is back where it was');
  assert.deepEqual(log, [], 'no console errors');
});

test('keyboard only: Tab reaches every button and wraps both ways, Enter activates, Esc closes and returns focus; a click outside dismisses', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openFixture(t);
  await page.focus('#search');
  assert.equal(await show(page, COUPON), true);
  assert.equal(await focused(page), 'copy');

  const walk = async (key, steps) => {
    const seen = [];
    for (let i = 0; i < steps; i++) {
      await page.keyboard.press(key);
      seen.push(await focused(page));
    }
    return seen;
  };
  // In document order: close (top corner), copy, call to action; then round again.
  assert.deepEqual(await walk('Tab', 4), ['cta', 'close', 'copy', 'cta'], 'Tab goes through the buttons and wraps');
  assert.deepEqual(await walk('Shift+Tab', 4), ['copy', 'close', 'cta', 'copy'], 'Shift+Tab wraps the other way');

  // Enter on the copy button copies (or selects) the code and leaves the prompt open.
  await page.keyboard.press('Enter');
  await waitFor('onCopy after Enter on the copy button', async () => (await calls(page)).length == 1);
  assert.deepEqual((await calls(page))[0].slice(0, 3), ['copy', 'p-1', 'LINEN10']);
  assert.equal((await promptState(page))?.open, true, 'still open after copying');
  await page.evaluate(() => (window.calls = []));

  // Esc dismisses, and the listeners went with the dialog: another Esc reports nothing.
  await page.evaluate(() => {
    window.closedDialog = document.querySelector('cartsense-prompt').shadowRoot.querySelector('dialog');
  });
  await page.keyboard.press('Escape');
  assert.equal(await promptState(page), null, 'Esc closes the prompt');
  assert.deepEqual(await calls(page), [['dismiss', 'p-1']]);
  assert.equal(await focused(page), 'search', 'focus is back in the search field');
  await page.evaluate(() => {
    window.closedDialog.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
  });
  await page.keyboard.press('Escape');
  assert.deepEqual(await calls(page), [['dismiss', 'p-1']], 'no listener left behind after close');

  // Enter on the call to action: onClick, closed, no dismissal.
  assert.equal(await show(page, { ...COUPON, promptId: 'p-2' }), true, 'a new prompt shows after the first closed');
  await page.keyboard.press('Tab');
  assert.equal(await focused(page), 'cta');
  await page.keyboard.press('Enter');
  assert.equal(await promptState(page), null, 'the call to action closes the prompt');
  assert.deepEqual(await calls(page), [['dismiss', 'p-1'], ['click', 'p-2']]);
  assert.equal(await focused(page), 'search');

  // Esc with focus on no element (the key then reaches the dialog only as the browser's
  // `cancel`) dismisses too.
  assert.equal(await show(page, { ...COUPON, promptId: 'p-4' }), true);
  await page.evaluate(() => document.querySelector('cartsense-prompt').shadowRoot.activeElement.blur());
  assert.equal(await focused(page), 'BODY');
  await page.keyboard.press('Escape');
  assert.equal(await promptState(page), null, 'Esc closes the prompt with focus on no element');
  assert.deepEqual((await calls(page)).at(-1), ['dismiss', 'p-4']);

  // A click on the backdrop, outside the dialog, dismisses; one inside it does not.
  assert.equal(await show(page, { ...COUPON, promptId: 'p-5' }), true);
  await page.getByRole('heading', { name: COUPON.title }).click();
  assert.equal((await promptState(page))?.open, true, 'a click on the title leaves the prompt open');
  await page.mouse.click(5, 5);
  assert.equal(await promptState(page), null, 'a click outside the dialog closes it');
  assert.deepEqual((await calls(page)).at(-1), ['dismiss', 'p-5']);

  // A prompt with nothing but a title: the close button has focus and keeps it.
  assert.equal(await show(page, { promptId: 'p-3', title: 'Free shipping today' }), true);
  const bare = await promptState(page);
  const parts = bare.parts.map(([part]) => part);
  assert.deepEqual(parts, ['dialog', 'title', 'close'], 'no message, code or call to action');
  assert.equal(bare.describedBy, null, 'no aria-describedby without a message');
  assert.equal(await focused(page), 'close');
  assert.deepEqual(await walk('Tab', 2), ['close', 'close'], 'Tab stays on the only button');
  await page.keyboard.press('Enter');
  assert.equal(await promptState(page), null);
  assert.deepEqual((await calls(page)).at(-1), ['dismiss', 'p-3']);
  assert.deepEqual(log, [], 'no console errors');
});

test('opening it shifts nothing: cumulative layout shift stays 0 (and the same observer sees a real shift)', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openFixture(t);
  await page.evaluate(() => {
    window.layoutShift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.layoutShift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  const settled = () =>
    page.evaluate(
      () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 300)))),
    );
  await settled();
  assert.equal(await page.evaluate(() => window.layoutShift), 0, 'the fixture page itself is still');

  assert.equal(await show(page, COUPON), true);
  const animations = await page.evaluate(async () => {
    const dialog = document.querySelector('cartsense-prompt').shadowRoot.querySelector('dialog');
    const running = dialog.getAnimations();
    await Promise.all(running.map((animation) => animation.finished));
    return running.length;
  });
  assert.equal(animations, 1, 'the entrance animation ran (this is the opening being measured)');
  await settled();
  assert.equal(await page.evaluate(() => window.layoutShift), 0, 'no layout shift while the prompt opened');

  // The control: content pushed down in the flow is measured, so the 0 above is a measurement.
  await page.evaluate(() => {
    const banner = document.createElement('div');
    banner.style.height = '120px';
    document.body.prepend(banner);
  });
  const shifted = await waitFor(
    'the observer to report the control shift',
    () => page.evaluate(() => window.layoutShift),
    { timeout: 5000 },
  );
  assert.ok(shifted > 0, `the control shift is seen: ${shifted}`);
  assert.deepEqual(log, [], 'no console errors');
});

test('an injection attempt in title, message, code and call to action renders as text; nothing runs', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openFixture(t);
  const fetched = [];
  page.on('request', (request) => {
    if (/\/x\d?$/.test(new URL(request.url()).pathname)) fetched.push(request.url());
  });
  const attack = {
    promptId: 'p-x',
    title: '<img src=x onerror="window.pwned=1">',
    message: '<script>window.pwned=2</script><img src=/x2 onerror="window.pwned=3">',
    code: '"><img src=/x3 onerror="window.pwned=4">',
    cta: '<b onclick="window.pwned=5">Go</b>',
  };
  assert.equal(await show(page, attack), true);
  await sleep(300); // an <img> that had been created would have fired its error by now
  const state = await promptState(page);
  const text = Object.fromEntries(state.parts);
  assert.equal(text.title, attack.title, 'the title is shown as typed');
  assert.equal(text.message, attack.message);
  assert.equal(text.code, attack.code);
  assert.equal(text.cta, attack.cta);
  const named = await page.getByRole('dialog', { name: attack.title }).count();
  assert.equal(named, 1, 'the dialog is named by the literal text');
  const elements = await page.evaluate(() => ({
    inPrompt: document.querySelector('cartsense-prompt').shadowRoot.querySelectorAll('img, script, b').length,
    inPage: document.querySelectorAll('img, b').length,
  }));
  assert.deepEqual(elements, { inPrompt: 0, inPage: 0 }, 'no <img>, <script> or <b> element was made');
  await page.getByRole('button', { name: attack.cta }).click();
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'no injected script ran');
  assert.deepEqual(fetched, [], 'no injected image was requested');
  assert.deepEqual(await calls(page), [['click', 'p-x']]);
  assert.deepEqual(log, [], 'no console errors');
});

test('reduced motion: the entrance animation runs normally and not at all under prefers-reduced-motion', TEST_TIMEOUT, async (t) => {
  const { page } = await openFixture(t);
  const animationsOnOpen = async () => {
    assert.equal(await show(page, COUPON), true);
    const seen = await page.evaluate(() => {
      const dialog = document.querySelector('cartsense-prompt').shadowRoot.querySelector('dialog');
      return { running: dialog.getAnimations().length, name: getComputedStyle(dialog).animationName };
    });
    await page.evaluate(() => window.handle.close());
    return seen;
  };
  await page.emulateMedia({ reducedMotion: 'no-preference' });
  const normal = await animationsOnOpen();
  assert.equal(normal.running, 1, `animated by default: ${JSON.stringify(normal)}`);
  await page.emulateMedia({ reducedMotion: 'reduce' });
  assert.deepEqual(await animationsOnOpen(), { running: 0, name: 'none' }, 'no animation under reduced motion');
});

test('the copy button puts the code on the clipboard and reports onCopy; without a clipboard it selects the code', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openFixture(t, { clipboard: true });
  assert.equal(await show(page, COUPON), true);
  await page.getByRole('button', { name: 'Copy code' }).click();
  await waitFor('onCopy', async () => (await calls(page)).length == 1);
  assert.deepEqual(await calls(page), [['copy', 'p-1', 'LINEN10', true]]);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'LINEN10', 'the code is on the clipboard');
  const state = await promptState(page);
  assert.equal(state.open, true, 'copying leaves the prompt open');
  assert.equal(Object.fromEntries(state.parts).copy, 'Copied', 'the button says it worked');
  assert.equal(await page.getByRole('status').textContent(), 'Copied', 'and so does the status for screen readers');
  assert.deepEqual(log, [], 'no console errors');

  // A page without the async clipboard API (an insecure origin, an older browser).
  const fallback = await openFixture(t, {
    clipboard: true,
    initScript: () => {
      window.realClipboard = navigator.clipboard;
      Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
    },
  });
  assert.equal(await fallback.page.evaluate(() => navigator.clipboard), undefined, 'the clipboard API is gone');
  await fallback.page.evaluate(() => window.realClipboard.writeText('before'));
  assert.equal(await show(fallback.page, COUPON), true);
  await fallback.page.getByRole('button', { name: 'Copy code' }).click();
  await waitFor('onCopy in the fallback', async () => (await calls(fallback.page)).length == 1);
  const [[kind, id, code, clipboard]] = await calls(fallback.page);
  assert.deepEqual([kind, id, code], ['copy', 'p-1', 'LINEN10']);
  assert.equal(await fallback.page.evaluate(() => getSelection().toString()), 'LINEN10', 'the code is selected');
  const pasted = await fallback.page.evaluate(() => window.realClipboard.readText());
  assert.equal(clipboard, pasted == 'LINEN10', `onCopy's clipboard flag tells the truth (clipboard holds "${pasted}")`);
  assert.deepEqual(fallback.log, [], 'no console errors');
});

test('one prompt at a time: a second returns null and leaves the first; close() reports nothing', TEST_TIMEOUT, async (t) => {
  const { page, log } = await openFixture(t);
  await page.focus('#shop-button');
  assert.equal(await show(page, COUPON), true);
  await page.evaluate(() => void (window.first = window.handle));
  assert.equal(await show(page, { ...COUPON, promptId: 'p-2', title: 'Second' }), false, 'showPrompt returns null');
  const state = await promptState(page);
  assert.equal(state.hosts, 1, 'one prompt in the document');
  assert.equal(state.labelledBy, COUPON.title, 'the first prompt is still the one shown');
  assert.equal(await focused(page), 'copy', 'focus stays in the first prompt');

  assert.equal(await page.evaluate(() => window.handle), null, 'the second showPrompt() gave no handle');
  await page.evaluate(() => window.first.close());
  assert.equal(await promptState(page), null, 'close() removes it');
  assert.deepEqual(await calls(page), [], 'close() by the shell reports no dismissal');
  assert.equal(await focused(page), 'shop-button', 'focus is given back');

  // A prompt the page itself removed (a re-rendered <body>) does not block the next one.
  assert.equal(await show(page, { ...COUPON, promptId: 'p-2' }), true);
  await page.evaluate(() => document.querySelector('cartsense-prompt').remove());
  assert.equal(await show(page, { ...COUPON, promptId: 'p-3' }), true, 'the next prompt shows');
  assert.equal((await promptState(page)).hosts, 1);
  assert.deepEqual(log, [], 'no console errors');
});

test('a browser refusing to open the dialog: the error goes to the caller, nothing stays behind, the next prompt shows', TEST_TIMEOUT, async (t) => {
  const { page } = await openFixture(t);
  const error = await page.evaluate((prompt) => {
    const showModal = HTMLDialogElement.prototype.showModal;
    HTMLDialogElement.prototype.showModal = () => {
      throw new DOMException('refused', 'InvalidStateError');
    };
    try {
      window.show(prompt);
      return null;
    } catch (error) {
      return error.name;
    } finally {
      HTMLDialogElement.prototype.showModal = showModal;
    }
  }, COUPON);
  assert.equal(error, 'InvalidStateError');
  assert.equal(await promptState(page), null, 'no half-shown prompt in the document');
  assert.equal(await show(page, { ...COUPON, promptId: 'p-2' }), true, 'the next prompt is not blocked');
  assert.equal((await promptState(page)).open, true);
});

test("themed by the shop's custom properties, untouched by its page-wide CSS", TEST_TIMEOUT, async (t) => {
  const { page } = await openFixture(t);
  const look = () =>
    page.evaluate(() => {
      const root = document.querySelector('cartsense-prompt').shadowRoot;
      const style = (selector) => getComputedStyle(root.querySelector(selector));
      return {
        background: style('dialog').backgroundColor,
        color: style('dialog').color,
        fontSize: style('dialog').fontSize,
        radius: style('dialog').borderTopLeftRadius,
        titleBackground: style('h2').backgroundColor,
        closeBackground: style('[part=close]').backgroundColor,
        ctaBackground: style('[part=cta]').backgroundColor,
      };
    });
  assert.equal(await show(page, COUPON), true);
  assert.deepEqual(
    await look(),
    {
      background: 'rgb(255, 255, 255)',
      color: 'rgb(31, 31, 31)',
      fontSize: '15px',
      radius: '12px',
      titleBackground: 'rgba(0, 0, 0, 0)',
      closeBackground: 'rgba(0, 0, 0, 0)',
      ctaBackground: 'rgb(11, 87, 208)',
    },
    "the defaults, not the shop's red buttons, yellow blocks, serif font or red text",
  );
  await page.evaluate(() => window.handle.close());

  await page.addStyleTag({
    content: `:root {
      --cs-prompt-bg: rgb(1, 2, 3);
      --cs-prompt-fg: rgb(250, 250, 250);
      --cs-prompt-accent: rgb(0, 128, 0);
      --cs-prompt-radius: 4px;
      --cs-prompt-font: 18px/1.2 monospace;
    }`,
  });
  assert.equal(await show(page, COUPON), true);
  const themed = await look();
  assert.deepEqual(
    [themed.background, themed.color, themed.ctaBackground, themed.radius, themed.fontSize],
    ['rgb(1, 2, 3)', 'rgb(250, 250, 250)', 'rgb(0, 128, 0)', '4px', '18px'],
    'the theme applies',
  );
  await page.evaluate(() => window.handle.close());

  // Bottom right on a left-to-right page, bottom left on a right-to-left one.
  const corner = () =>
    page.evaluate(async () => {
      const dialog = document.querySelector('cartsense-prompt').shadowRoot.querySelector('dialog');
      await Promise.all(dialog.getAnimations().map((animation) => animation.finished)); // it rises 1rem
      const box = dialog.getBoundingClientRect();
      return { left: box.left < innerWidth / 2, bottom: Math.round(innerHeight - box.bottom) };
    });
  assert.equal(await show(page, COUPON), true);
  assert.deepEqual(await corner(), { left: false, bottom: 16 }, 'bottom right, 1rem from the edges');
  await page.evaluate(() => window.handle.close());
  await page.evaluate(() => (document.documentElement.dir = 'rtl'));
  assert.equal(await show(page, COUPON), true);
  assert.deepEqual(await corner(), { left: true, bottom: 16 }, 'bottom left on a right-to-left page');
});

test("styled under a Content-Security-Policy that forbids inline styles", TEST_TIMEOUT, async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close().catch(() => {}));
  const page = await context.newPage();
  const url = server.origin + '/csp.html';
  await page.route(url, (route) =>
    route.fulfill({
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "style-src 'self'" },
      body: `<!doctype html><meta charset="utf-8"><title>strict CSP</title><button id="b">Buy</button>
<script type="module">
  import { showPrompt } from '/pkg/prompt.js';
  window.showPrompt = showPrompt;
  document.documentElement.dataset.ready = '1';
</script>`,
    }),
  );
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => document.documentElement.dataset.ready, null, { timeout: 15_000 });
  const result = await page.evaluate((prompt) => {
    // The policy is in force: a <style> element added by script is ignored.
    const inline = document.head.appendChild(document.createElement('style'));
    inline.textContent = '#b { color: rgb(1, 2, 3) }';
    const blocked = getComputedStyle(document.getElementById('b')).color != 'rgb(1, 2, 3)';
    showPrompt(prompt);
    const dialog = document.querySelector('cartsense-prompt').shadowRoot.querySelector('dialog');
    const { borderTopLeftRadius: radius, fontSize } = getComputedStyle(dialog);
    return { blocked, radius, fontSize };
  }, COUPON);
  const expected = { blocked: true, radius: '12px', fontSize: '15px' };
  assert.deepEqual(result, expected, 'the prompt has its styles all the same');
});

test('bad input: a clear error naming what is wrong, and nothing shown', TEST_TIMEOUT, async (t) => {
  const { page } = await openFixture(t);
  const attempts = await page.evaluate(() => {
    const attempt = (...args) => {
      try {
        window.showPrompt(...args);
        return 'shown';
      } catch (error) {
        return `${error.name}: ${error.message}`;
      }
    };
    return [
      attempt(null),
      attempt('Leaving already?'),
      attempt({ promptId: 'p', title: '' }),
      attempt({ promptId: 'p', title: 'T', code: 10 }),
      attempt({ promptId: 'p', title: 'T', message: { text: 'm' } }),
      attempt({ promptId: 'p', title: 'T' }, { onDismiss: 'close' }),
      attempt({ promptId: 'p', title: 'T' }, null),
      attempt({ promptId: 'p', title: 'T' }, { labels: 'Close' }),
    ];
  });
  assert.deepEqual(attempts, [
    'TypeError: cartsense prompt: prompt must be an object',
    'TypeError: cartsense prompt: prompt must be an object',
    'TypeError: cartsense prompt: prompt.title must be a non-empty string',
    'TypeError: cartsense prompt: prompt.code must be a string',
    'TypeError: cartsense prompt: prompt.message must be a string',
    'TypeError: cartsense prompt: onDismiss must be a function',
    'TypeError: cartsense prompt: the second argument must be an object of callbacks',
    'TypeError: cartsense prompt: labels must be an object',
  ]);
  assert.equal(await promptState(page), null, 'nothing was shown');
  assert.equal(await show(page, COUPON), true, 'a valid prompt still shows afterwards');
});

test('importing it outside a browser (server-side rendering) does not throw; showing says it needs one', async () => {
  const module = await import(pathToFileURL(PROMPT_JS).href);
  assert.equal(typeof module.showPrompt, 'function');
  assert.throws(() => module.showPrompt(COUPON), /needs a browser/);
});
