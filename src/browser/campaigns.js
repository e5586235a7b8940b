// cartsense merchant campaigns in the page (issue 5): the glue between the campaign engine in
// the session intelligence (the build cartsense_insight_campaigns) and the page. Imported by
// index.js only when the shop configures campaigns, alongside that build and after the first
// event, so a shop without campaigns never downloads it.
//
// Carries out what the engine cannot: the cues it cannot see (the pointer leaving through the
// top edge, a fast upward scroll, a return to the tab, its wake-up timer), the page facts it
// cannot know, the unique-code fetch, and showing a prompt (the default UI in prompt.js,
// imported only when a prompt is about to show, or the shop's `onPrompt`). The engine decides
// who sees what and when (src/core/campaign); this file does what it says and reports back what
// happened.

// Insight.run operations (src/wasm.rs, `insight_op`).
const DECIDE = 7,
  OUTCOME = 8,
  ATTRIBUTION = 9,
  CAMPAIGNS = 10;
// ('closed': the page took the prompt away, not the visitor; no event, no cool-down.)
const OUTCOMES = ['shown', 'not_shown', 'clicked', 'dismissed', 'copied', 'closed'];
// Outcomes after which the prompt is gone (and the engine's one-prompt budget is free again).
const CLOSING = ['not_shown', 'clicked', 'dismissed', 'closed'];
// Outcomes only a prompt on screen can have: one reported before 'shown' implies it.
const ON_SCREEN = ['clicked', 'dismissed', 'copied'];
// Upward scroll speed is measured over at least this long (scroll events come every frame).
const SCROLL_SAMPLE_MS = 100;
// A sample older than this is a new gesture's start, not a speed.
const SCROLL_GESTURE_MS = 500;
const UNIQUE_CODE_TIMEOUT_MS = 2000;
const MAX_CODE_LENGTH = 100;

/** `desktop`, or for a coarse pointer (touch) `mobile` when the screen's short side is under
 * 600 px, else `tablet`. */
const deviceClass = () =>
  matchMedia('(pointer: coarse)').matches ? (Math.min(screen.width, screen.height) < 600 ? 'mobile' : 'tablet') : 'desktop';

/** The shop's page type, from `data-cs-page` on `<body>` or `<html>`. */
const pageType = () => document.body?.dataset.csPage || document.documentElement.dataset.csPage || '';

/** Fetches a single-use code: GET `url`, answered with `{"code": "..."}` or the code as plain
 * text, within `timeoutMs` (headers and body). Throws an Error saying what went wrong. */
async function fetchCode(url, timeoutMs) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(url, { signal: abort.signal, credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = (await response.text()).trim();
    const code = body.startsWith('{') ? JSON.parse(body).code : body;
    if (typeof code != 'string' || !code.trim() || code.length > MAX_CODE_LENGTH) {
      throw new Error(`the answer is not {"code": "..."} or a code of 1 to ${MAX_CODE_LENGTH} characters`);
    }
    return code.trim();
  } catch (error) {
    throw abort.signal.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wires the merchant campaigns to the page once the intelligence has loaded: installs the cue
 * listeners, fetches the campaign document when it was given as a URL, and shows what the
 * engine decides. `host` is the tracker's side: { session() (its session id), facts() →
 * { anonymousId, consent }, track(event, properties), save() (store the state now), warn(message),
 * onPrompt, url (the campaigns' URL, if given so) }.
 * Returns { decide(cue, n), attribute(properties), close(), dispose() }.
 */
export function prompts(insight, host) {
  const { warn, onPrompt } = host;
  const listening = new AbortController();
  const on = (target, type, listener) =>
    target.addEventListener(type, listener, { passive: true, capture: true, signal: listening.signal });
  let disposed = false;
  let wake; // the engine's timer
  // While the default UI shows a prompt: { close() }, which closes it as a dismissal, and
  // { gone(), release() } for when the page removed it (a single-page app re-rendering <body>).
  let open;
  let closes = 0; // close() calls (consent denied): a prompt being prepared meanwhile is not shown
  // The page was shown at navigation, or later for a single-page app's new path or a page back
  // from the back/forward cache.
  let pageShownAt = Math.round(performance.timeOrigin || Date.now());
  // No interaction yet: inactivity counts from the page's showing.
  let lastInteraction = pageShownAt;
  let shownPath = location.pathname;
  let leftWindow = false; // the pointer is outside the window: one exit cue per leave
  let hidden = document.hidden;
  let scroll = { y: scrollY, t: 0 };

  const facts = (now) => {
    if (location.pathname != shownPath) [shownPath, pageShownAt] = [location.pathname, now];
    const query = new URLSearchParams(location.search);
    const { anonymousId, consent } = host.facts();
    return JSON.stringify({
      anonymousId: anonymousId || '',
      page: pageType(),
      path: location.pathname,
      device: deviceClass(),
      utm: { source: query.get('utm_source') || '', medium: query.get('utm_medium') || '', campaign: query.get('utm_campaign') || '' },
      consent,
      pageShownAt,
      lastInteraction,
    });
  };

  /** Asks the engine whether to prompt now, on `cue` (see src/wasm.rs DECIDE). What it decides
   * is carried out in a microtask: never from inside the tracker call that prompted it. */
  const decide = (cue, n = 0) => {
    if (disposed) return;
    // A prompt the page took away is no longer on screen: the engine must hear it, or it would
    // keep the one-prompt budget spent for the rest of the page.
    if (open?.gone()) open.release();
    const now = Date.now();
    const answer = insight.run(DECIDE, host.session() || '', cue, facts(now), n, now);
    const result = answer ? JSON.parse(answer) : {};
    // One timer, the engine's latest word: no wake means no time-based trigger is pending.
    clearTimeout(wake);
    // (setTimeout takes at most 2^31 - 1 ms; a longer delay would fire at once.)
    wake = result.wake != null ? setTimeout(() => decide('tick'), Math.min(result.wake, 2 ** 31 - 1)) : undefined;
    if (result.prompt) queueMicrotask(() => present(result.prompt));
    else if (result.event) queueMicrotask(() => disposed || host.track(result.event, result.properties));
  };

  /** Shows a treatment decision's prompt (after fetching its unique code, if it has one) and
   * reports to the engine what became of it. */
  const present = async (prompt) => {
    const { codeUrl, codeTimeoutMs, ...shown } = prompt;
    const epoch = closes;
    let code = '';
    const reported = new Set();
    let closed = false;
    // `retry`: decide again once the prompt is closed (not when the caller is deciding already).
    const report = (outcome, retry = true) => {
      if (!OUTCOMES.includes(outcome)) {
        throw new TypeError(`cartsense: report() takes ${OUTCOMES.map((o) => `'${o}'`).join(', ')}, not ${JSON.stringify(outcome)}`);
      }
      // A prompt already closed, or shown twice, changes nothing.
      if (disposed || closed || (outcome == 'shown' && reported.has(outcome))) return;
      // A shop's UI that reports a click or a dismissal without 'shown' first still showed it:
      // the caps and the analysts' click-through count it.
      if (ON_SCREEN.includes(outcome) && !reported.has('shown')) report('shown');
      reported.add(outcome);
      closed = CLOSING.includes(outcome);
      const answer = insight.run(OUTCOME, prompt.campaignId, outcome, code ? JSON.stringify({ code }) : '', 0, Date.now());
      if (answer) {
        const { event, properties } = JSON.parse(answer);
        host.track(event, properties);
      }
      host.save(); // caps and exposure must survive a page left right now
      if (closed) open = undefined;
      // The budget is free again: timers the engine dropped meanwhile come back. (After
      // not_shown the engine pauses that campaign for a minute, on every page: a failing code
      // endpoint is not asked on every event.)
      if (closed && retry) decide('tick');
    };
    if (codeUrl) {
      try {
        code = shown.code = await fetchCode(codeUrl, codeTimeoutMs || UNIQUE_CODE_TIMEOUT_MS);
        // The engine fills every placeholder but this one, which only the fetch knows (as text:
        // the prompt never becomes markup).
        for (const field of ['title', 'message', 'cta']) if (shown[field]) shown[field] = shown[field].split('{code}').join(code);
      } catch (error) {
        warn(`campaign ${prompt.campaignId}: its unique code could not be fetched from ${codeUrl} (${error.message}); the prompt is not shown`);
        return report('not_shown');
      }
    }
    if (disposed) return;
    if (closes != epoch) return report('not_shown');
    if (onPrompt) {
      try {
        onPrompt(shown, report);
      } catch (error) {
        warn('onPrompt threw: ' + error.message);
        if (!reported.size) report('not_shown');
      }
      return;
    }
    try {
      const ui = await import('./prompt.js');
      if (disposed) return;
      if (closes != epoch) return report('not_shown');
      const handle = ui.showPrompt(shown, {
        onClick: () => report('clicked'),
        onDismiss: () => report('dismissed'),
        onCopy: () => report('copied'),
      });
      if (handle) {
        open = {
          close() {
            handle.close(); // (calls no callback)
            report('dismissed');
          },
          gone: () => !handle.connected,
          release() {
            handle.close(); // (its listeners; the element is gone already)
            report('closed', false);
          },
        };
      }
    } catch (error) {
      warn('the prompt could not be shown: ' + error.message);
    }
    report(open ? 'shown' : 'not_shown');
  };

  // Cues. Interactions only move `lastInteraction` (the engine's inactivity timer reads it).
  const interacted = () => (lastInteraction = Date.now());
  ['pointerdown', 'keydown', 'touchstart'].forEach((type) => on(window, type, interacted));
  on(window, 'scroll', () => {
    const now = interacted();
    if (now - scroll.t < SCROLL_SAMPLE_MS) return;
    const speed = ((scroll.y - scrollY) * 1000) / (now - scroll.t);
    const sameGesture = now - scroll.t < SCROLL_GESTURE_MS;
    scroll = { y: scrollY, t: now };
    // Only touch devices have this exit signal; a desktop's scrolling costs no decision.
    if (sameGesture && speed > 0 && deviceClass() != 'desktop') decide('scroll', Math.round(speed));
  });
  // The pointer left the window (no element to go to) nearer the top edge than any other.
  on(document, 'mouseout', (event) => {
    const { clientX: x, clientY: y } = event;
    if (event.relatedTarget || leftWindow || y > Math.min(x, innerWidth - x, innerHeight - y)) return;
    leftWindow = true;
    decide('exit', Math.max(0, y));
  });
  on(document, 'mouseover', (event) => event.relatedTarget || (leftWindow = false));
  on(document, 'visibilitychange', () => {
    if (document.hidden) hidden = true;
    else if (hidden) {
      hidden = false;
      decide('return');
    }
  });
  on(window, 'pageshow', (event) => event.persisted && (pageShownAt = Date.now()));

  if (host.url) {
    fetch(host.url, { credentials: 'same-origin' })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        return response.text();
      })
      .then((text) => {
        if (disposed) return;
        JSON.parse(insight.run(CAMPAIGNS, '', '', text, 0, Date.now())).forEach(warn);
        decide('tick');
      })
      .catch((error) => warn(`campaigns could not be loaded from ${host.url}: ${error.message}`));
  }

  return {
    decide,
    /** `properties` with the campaign and arm an order or coupon is attributed to (the shop's
     * own values win); unchanged when there is none, or when they are not an object. */
    attribute(properties) {
      if (disposed || (properties != null && (typeof properties != 'object' || Array.isArray(properties)))) return properties;
      const attribution = insight.run(ATTRIBUTION, '', '', '', 0, Date.now());
      return attribution ? { ...JSON.parse(attribution), ...properties } : properties;
    },
    /** Closes the default UI's prompt on screen, if any, as a dismissal (consent was denied).
     * A shop's own UI (`onPrompt`) is the shop's to close. */
    close() {
      closes++;
      open?.close();
    },
    /** Closes a prompt on screen and removes the listeners and the timer. */
    dispose() {
      disposed = true;
      listening.abort();
      clearTimeout(wake);
      open?.close();
    },
  };
}
