// cartsense browser shell, and the package's public API (the npm entry, built to pkg/index.js).
//
// Owns everything that touches the browser: loading the wasm modules, localStorage, fetch and
// sendBeacon, timers, the visibilitychange/pagehide/online listeners and reading the page
// context; autocapture's reading of data-cs-* markup is in autocapture.js, loaded on demand.
// Two engines, both Rust: the tracker (validation, sessions, delivery), which a page needs
// before its first event, and the session intelligence (insight.js, loaded right after), which
// the shell feeds every event the tracker accepted and whose summaries and state it hands back
// to the tracker to send and store. When the shop configures campaigns, the intelligence is the
// build with the campaign engine and also decides on prompts; campaigns.js (loaded only then)
// carries that out, and this file asks it after each event and merges its attribution into
// orders and coupons. The Rust engine owns every decision:
// validation, identity, sessions, consent, the wire format, what to store, when to send, what
// to retry and what to drop. After each call the shell asks it what to do (Engine::drain) and
// does exactly that. This plumbing lives in JavaScript because each web-sys call and Rust
// closure costs glue on both sides of the boundary: the same shell written in Rust cost more
// than the whole download budget (see docs/design.md, "Where the shell lives").
//
// Import is side-effect free, so server-side rendering can import it; nothing touches window
// or document until init() runs. Never an `unload` listener (it breaks the back/forward cache).
import load, { Tracker as Engine } from './cartsense_tracker.js';

const PREFIX = 'cartsense.';
// Engine.run operations (src/wasm.rs, `op`).
const STATUS = 0,
  TRACK = 1,
  PAGE = 2,
  IDENTIFY = 3,
  SET_CONSENT = 4,
  RESET = 5,
  DRAIN = 6,
  ANSWER = 7,
  UNLOAD = 8,
  SUMMARY = 9,
  STORE = 10;
// Insight.run operations (src/wasm.rs, `insight_op`).
const OBSERVE = 0,
  VISIBILITY = 1,
  LEAVE = 2,
  PROFILE = 3,
  STATE = 4,
  FORGET = 5,
  WARNINGS = 6,
  RECS_FACTS = 11;
// What a call returns for a valid event that was not taken (consent denied, an order already
// counted): nothing for the intelligence to learn.
const NOT_ACCEPTED = '-';
// Events kept for the intelligence until its module is ready.
const BACKLOG_LIMIT = 1000;
// A hide this soon after a click on a link of this site, or a form submitted, is a move to
// another page of the shop, not the visitor leaving: no session summary for it.
const NAVIGATION_WINDOW_MS = 5000;
// With campaigns, autocapture's markup events wait this long at most for the intelligence to
// load, so that an order on the page is attributed to the prompt that led to it.
const INSIGHT_WAIT_MS = 3000;
// Events that carry the campaign attribution (the shop's own values win).
const ATTRIBUTED = ['Order Completed', 'Coupon Applied'];
let loading;
// init() resolves once autocapture (when asked for) is listening.
const started = new WeakMap();

const warn = (message) => console.warn('cartsense: ' + message);

// JSON for the engine. Non-finite numbers become strings so validation can name them
// (JSON.stringify would silently turn NaN into null).
const json = (value, subject, field) => {
  if (value == null) return '{}';
  try {
    return JSON.stringify(value, (_, v) => (typeof v == 'number' && !isFinite(v) ? String(v) : v));
  } catch (e) {
    throw new Error(`${subject}: ${field} cannot be serialized (${e.message})`);
  }
};

const text = (value) => String(value ?? '');

// Segment's page fields, for context.page and the properties of page calls.
const pageFields = () => ({
  path: location.pathname,
  referrer: document.referrer,
  search: location.search,
  title: document.title,
  url: location.href,
});

// The shell's part of every item's `context`; the engine adds library and sessionId. Every
// call needs it, so it is kept while the page it describes stays the same: the URL and
// title can change within a document (a single-page app's navigation), the language with the
// browser's settings (languagechange); the referrer and user agent cannot.
let contextFor = '';
let contextJson = '';
const context = () => {
  const key = location.href + '\n' + document.title + '\n' + navigator.language;
  if (key != contextFor) [contextFor, contextJson] = [key, describeContext()];
  return contextJson;
};

const describeContext = () => {
  const query = new URLSearchParams(location.search);
  const campaign = {};
  for (const [utm, key] of [
    ['source', 'source'],
    ['medium', 'medium'],
    ['campaign', 'name'],
    ['term', 'term'],
    ['content', 'content'],
  ]) {
    const value = query.get('utm_' + utm);
    if (value) campaign[key] = value;
  }
  return JSON.stringify({
    page: pageFields(),
    userAgent: navigator.userAgent,
    locale: navigator.language,
    ...(Object.keys(campaign).length && { campaign }),
  });
};

function openStorage(kind) {
  if (kind == 'memory') return null;
  try {
    const store = window.localStorage;
    store.getItem(PREFIX); // throws where storage is blocked
    return store;
  } catch {
    warn('localStorage is unavailable; events are kept in memory only');
    return null;
  }
}

const basicAuth = (key) => {
  try {
    return 'Basic ' + btoa(String.fromCharCode(...new TextEncoder().encode(key + ':')));
  } catch {
    return '';
  }
};

class Tracker {
  #e;
  #store;
  #endpoint;
  #auth;
  #markup;
  #timer;
  #frame = 0;
  #watchers = []; // onProfile listeners
  #newWatchers = new Set(); // registered since the last notification: owed the current profile
  #profileChanged = false; // since the last notification
  #insight; // the intelligence module's handle, once loaded
  #backlog = []; // [op, session, event, json, n, now] until then; null if it failed to load
  #saving; // the timer that stores the intelligence's state
  #inFlight = 0; // batches sent and not yet answered
  #navigating = -Infinity;
  #waiters = [];
  #off = [];
  #state = { pending: 0, ids: [] }; // the last drain: events waiting, [anonymousId, userId, sessionId]
  #disposed = false;
  #hidden = false; // the leave logic ran for this hide (visibilitychange and pagehide both come)
  #storageWarned = false;
  #campaigns; // { url, onPrompt } when campaigns are configured
  #prompts; // campaigns.js's glue, once the intelligence has loaded
  #loaded; // resolves when the intelligence has loaded or failed to
  #settle;
  #recs; // recs.js's recommendations, once a model has loaded
  #recsWasmUrl;

  constructor(engine, store, options, campaigns) {
    this.#campaigns = campaigns;
    this.#loaded = new Promise((resolve) => (this.#settle = resolve));
    this.#e = engine;
    this.#store = store;
    this.#endpoint = options.endpoint;
    this.#recsWasmUrl = options.recsWasmUrl;
    this.#auth = basicAuth(options.writeKey || '');
    const on = (target, type, listener, capture = false) => {
      target.addEventListener(type, listener, capture);
      this.#off.push(() => target.removeEventListener(type, listener, capture));
    };
    on(document, 'visibilitychange', () => (document.hidden ? this.#hide() : this.#shown()));
    on(window, 'pagehide', () => this.#hide());
    // Back from the back/forward cache: a later hide is a new leave.
    on(window, 'pageshow', (event) => event.persisted && this.#hidden && this.#shown());
    on(window, 'online', () => this.#pump(true)); // back online: retry now, not after the backoff
    // Moves to another page of the shop, so that leaving and navigating can be told apart.
    // A link a handler cancelled does not navigate; a form is different: shops commonly cancel
    // the submit and navigate themselves (location.assign after validating, as the demo does),
    // so the submit is seen in the capture phase, before any handler of the page's can cancel it.
    on(document, 'click', (event) => {
      const link = event.target?.closest?.('a[href]');
      const inside = link && link.origin == location.origin && !link.target && !link.hasAttribute('download');
      if (inside && !event.defaultPrevented) this.#navigating = Date.now();
    });
    on(document, 'submit', () => (this.#navigating = Date.now()), true);
    this.#visible(!document.hidden);
    if (options.autocapture) {
      this.page(); // the first event goes before the autocapture module is even fetched
      const capture = (event, properties) => {
        try {
          this.track(event, properties);
        } catch (error) {
          warn('autocapture: ' + error.message); // a markup mistake must not break the page
        }
      };
      // With campaigns, the markup's events (an order on the confirmation page) wait for the
      // intelligence, which attributes them; the page view above never waits.
      const ready = campaigns && Promise.race([this.#loaded, new Promise((resolve) => setTimeout(resolve, INSIGHT_WAIT_MS))]);
      started.set(
        this,
        import('./autocapture.js').then(async (markup) => {
          await ready;
          if (this.#disposed) return;
          // Capture phase, so a shop handler that stops propagation cannot hide a click.
          on(document, 'click', (event) => markup.click(event, capture, warn), true);
          this.#markup = () => markup.scan(capture);
          this.#markup();
        }).catch((error) => {
          // A chunk that did not load (a 404, a CSP) costs the markup's events, not the tracker.
          warn('autocapture is unavailable: ' + error.message);
        }),
      );
    } else {
      this.#pump();
    }
  }

  /** One tracker operation (see src/wasm.rs). */
  #run(op, text = '', json = '', n = 0, m = 0, now = Date.now()) {
    return this.#e.run(op, text, json, op < SET_CONSENT || op == SUMMARY ? context() : '', n, m, now);
  }

  /** Runs one call from the page, carries out what it asks for, and throws its error, if any.
   * An accepted track or page event goes on to the intelligence. */
  #call(op, text, json) {
    if (this.#disposed) throw new Error('cartsense: this tracker was disposed');
    const now = Date.now();
    const result = this.#run(op, text, json, 0, 0, now);
    this.#pump();
    if (result && result != NOT_ACCEPTED) throw new Error(result);
    if (!result && op < IDENTIFY) this.#learn(OBSERVE, this.#state.ids[2], op == TRACK ? text : '', json, 0, now);
  }

  /** One intelligence operation; before the module is ready, it waits in the backlog. A summary
   * it returns goes to the tracker to send; its state, to store. */
  #learn(op, session = '', event = '', json = '', n = 0, now = Date.now()) {
    if (!this.#insight) {
      // A forgetting (consent denied, reset) is kept even past the limit: what came before it
      // must not outlive it.
      if (this.#backlog && (this.#backlog.length < BACKLOG_LIMIT || op == FORGET)) this.#backlog.push([op, session, event, json, n, now]);
      return;
    }
    const summary = this.#insight.run(op, session, event, json, n, now);
    if (summary) this.#run(SUMMARY, '', summary);
    if (op == OBSERVE) this.#prompts?.decide('event');
    // Its state is stored at once when a summary went out or the page is going away, else at
    // most once a second: building it costs more than the update itself. Only a summary or a
    // save gives the engine something to do, so only they need a pump (#save pumps).
    if (summary || op == LEAVE || op == VISIBILITY) this.#save();
    else this.#saving ??= setTimeout(() => this.#save(), 1000);
    this.#changed();
  }

  /** Hands the intelligence's state (once it is loaded) to the engine to store, and carries
   * out what the engine asks for. */
  #save() {
    clearTimeout(this.#saving);
    this.#saving = undefined;
    if (this.#insight) this.#run(STORE, '', this.#insight.run(STATE, '', '', '', 0, Date.now()));
    this.#pump();
  }

  /** The intelligence module is ready: it catches up on what happened meanwhile. (Static,
   * so that only init() reaches it.) */
  static attach(tracker, insight, campaigns) {
    tracker.#attach(insight, campaigns);
  }

  /** The intelligence module did not load: the events kept for it are dropped, and no more
   * are kept. */
  static unavailable(tracker, error) {
    warn('session intelligence is unavailable: ' + error.message);
    tracker.#backlog = null;
    tracker.#settle();
  }

  /** The stored intelligence state as the tracker keeps it now, for the module starting: read
   * at its start, not at init(), so that what the engine has done since (cleared storage for a
   * denied consent or a reset) holds; none with `storage: 'memory'`. */
  static storedInsight(tracker) {
    try {
      return tracker.#store?.getItem(PREFIX + 'insight') || '';
    } catch {
      return ''; // unreadable storage reads as empty
    }
  }

  /** `campaigns`: campaigns.js, when campaigns are configured and it loaded. */
  #attach(insight, campaigns) {
    this.#settle();
    if (this.#disposed) return insight.free();
    this.#insight = insight;
    JSON.parse(insight.run(WARNINGS, '', '', '', 0, 0)).forEach(warn);
    const backlog = this.#backlog || [];
    this.#backlog = null;
    backlog.forEach((entry) => this.#learn(...entry));
    this.#changed();
    // Campaigns start once the backlog is replayed: one decision on what it told, not one per
    // event of it.
    if (!this.#campaigns || !campaigns) return;
    this.#prompts = campaigns.prompts(insight, {
      ...this.#campaigns,
      session: () => this.#state.ids[2],
      facts: () => ({ anonymousId: this.#state.ids[0], consent: this.#state.consent || 'pending' }),
      track: (event, properties) => {
        try {
          this.track(event, properties);
        } catch (error) {
          warn(`${event}: ${error.message}`);
        }
      },
      save: () => this.#save(),
      warn,
    });
    this.#prompts.decide('event');
  }

  /** The profile changed: `onProfile` listeners hear of it, once per frame. */
  #changed() {
    this.#recs?.refill(true);
    this.#profileChanged = true;
    this.#notify();
  }

  /** Calls `onProfile` listeners on the next frame, outside any tracker call: all of them
   * after a change, else only those registered since (they get the current profile once). */
  #notify() {
    if (this.#frame || !this.#insight || !(this.#newWatchers.size || (this.#profileChanged && this.#watchers.length))) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      const listeners = this.#profileChanged ? this.#watchers : this.#watchers.filter((w) => this.#newWatchers.has(w));
      this.#profileChanged = false;
      this.#newWatchers.clear();
      if (!listeners.length || !this.#insight) return;
      const profile = this.profile();
      for (const watcher of listeners) {
        try {
          watcher(profile);
        } catch (error) {
          warn('onProfile listener threw: ' + error.message);
        }
      }
    });
  }

  track(event, properties) {
    event = text(event);
    if (ATTRIBUTED.includes(event) && this.#prompts) properties = this.#prompts.attribute(properties);
    this.#call(TRACK, event, json(properties, event || 'track', 'properties'));
  }

  page(name, properties) {
    if (typeof name == 'object' && name != null) [name, properties] = [undefined, name];
    name = text(name);
    // The page's own fields first, the caller's on top (anything but an object goes as it is,
    // for the engine to reject).
    const own = properties ?? {};
    const merged = typeof own == 'object' && !Array.isArray(own) ? { ...pageFields(), ...(name && { name }), ...own } : own;
    this.#call(PAGE, name, json(merged, 'page', 'properties'));
    this.#markup?.();
    this.#recs?.refill();
  }

  identify(userId, traits) {
    this.#call(IDENTIFY, text(userId), json(traits, 'identify', 'traits'));
  }

  setConsent(state) {
    this.#call(SET_CONSENT, text(state));
    if (state == 'denied') {
      // A prompt on screen goes with the consent (before the forgetting, which then covers it).
      this.#prompts?.close();
      this.#learn(FORGET);
    }
  }

  reset() {
    this.#call(RESET);
    this.#learn(FORGET);
  }

  flush() {
    if (this.#disposed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push([null, resolve]); // its mark is the next drain's `next`
      this.#pump(true);
    });
  }

  /** Stores what the engine still holds, removes listeners and timers, resolves waiting
   * flush() promises and frees the wasm objects (the tracker's once no request is in flight:
   * its answer still removes the events it acknowledged from storage). */
  dispose() {
    if (this.#disposed) return;
    this.#save(); // and pumps: the state's write (and a batch now due) is carried out
    this.#disposed = true;
    this.#prompts?.dispose();
    this.#off.forEach((off) => off());
    clearTimeout(this.#timer);
    cancelAnimationFrame(this.#frame);
    this.#waiters.forEach(([, resolve]) => resolve());
    this.#waiters = [];
    this.#backlog = null;
    this.#insight?.free();
    this.#insight = undefined;
    this.#recs?.dispose();
    this.#recs = undefined;
    this.#release();
  }

  /** Frees the engine once disposed and no answer is awaited. */
  #release() {
    if (!this.#disposed || this.#inFlight || !this.#e) return;
    this.#e.free();
    this.#e = undefined;
  }

  /** Loads the recommendations model (a URL, an ArrayBuffer or a Uint8Array) and the module
   * that reads it (recs.js, only now, after the intelligence), then fills the page's
   * [data-cs-recs] containers. A bad file rejects naming what is wrong; tracking goes on. */
  async loadRecommendations(source, options) {
    await this.#loaded; // the session facts come from the intelligence, loaded after the first event
    const module = await import('./recs.js');
    const recs = await module.load(source, options, {
      facts: () => (this.#insight ? this.#insight.run(RECS_FACTS, '', '', '', 0, Date.now()) : ''),
      track: (event, properties) => {
        try {
          this.track(event, properties);
        } catch (error) {
          warn(`${event}: ${error.message}`);
        }
      },
      warn,
      wasmUrl: this.#recsWasmUrl,
    });
    if (this.#disposed) return recs.dispose();
    this.#recs?.dispose();
    this.#recs = recs;
    recs.refill();
  }

  /** Recommendations for `query` ({ kind, productId?, limit?, exclude?, priceRange?, category?,
   * spendThreshold? }) from this session; [] until a model has loaded. */
  recommend(query) {
    return this.#recs ? this.#recs.recommend(query) : [];
  }

  /** The session's picture: interests, intent, abandonment, segment, cart, session; null
   * until the intelligence module has loaded (moments after init). */
  profile() {
    return this.#insight ? JSON.parse(this.#insight.run(PROFILE, '', '', '', 0, Date.now())) : null;
  }

  /** Calls `listener(profile)` once with the current profile (on the next animation frame,
   * or when the intelligence module has loaded), then after changes, at most once per frame;
   * returns a function that stops it. */
  onProfile(listener) {
    this.#watchers.push(listener);
    this.#newWatchers.add(listener);
    this.#notify();
    return () => {
      this.#watchers = this.#watchers.filter((w) => w != listener);
      this.#newWatchers.delete(listener);
    };
  }

  get anonymousId() {
    return this.#state.ids[0];
  }
  get userId() {
    return this.#state.ids[1] || undefined;
  }
  get sessionId() {
    return this.#state.ids[2] || undefined;
  }
  get pending() {
    return this.#state.pending;
  }

  /** Carries out the engine's effects: storage, the next batch, flushes that settled, the timer. */
  #pump(force) {
    if (!this.#e) return; // freed by dispose()
    const effects = JSON.parse(this.#run(DRAIN, '', '', !this.#disposed && (force || this.#waiters.length > 0) ? 1 : 0));
    const store = this.#store;
    for (const [op, key, value] of effects.ops) {
      try {
        if (op == 's') store?.setItem(key, value);
        else if (op == 'r') store?.removeItem(key);
        else {
          const target = store || openStorage();
          for (const k of Object.keys(target || {})) if (k.startsWith(PREFIX)) target.removeItem(k);
        }
      } catch {
        // Full or blocked: the event stays in memory and is still sent.
        if (!this.#storageWarned) warn('localStorage refused a write; pending events are kept in memory');
        this.#storageWarned = true;
      }
    }
    this.#state = effects;
    if (this.#disposed) return; // answers still clean storage up; nothing new is sent
    if (effects.send) this.#send(...effects.send);
    this.#waiters = this.#waiters.filter((waiter) => {
      waiter[0] ??= effects.next;
      if (effects.settled < waiter[0]) return true;
      waiter[1]();
      return false;
    });
    clearTimeout(this.#timer);
    if (effects.wake != null) this.#timer = setTimeout(() => this.#pump(), effects.wake);
  }

  #send(id, body) {
    this.#inFlight++;
    fetch(this.#endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: this.#auth },
      body,
    })
      .then(
        (response) => [response.status, response.headers.get('Retry-After')],
        () => [0, null],
      )
      .then(([status, retryAfter]) => {
        // Retry-After as seconds; the HTTP-date form is converted here, where Date.parse is.
        if (retryAfter && !/^\s*\d+\s*$/.test(retryAfter)) {
          const at = Date.parse(retryAfter);
          retryAfter = isNaN(at) ? '' : String(Math.max(0, Math.ceil((at - Date.now()) / 1000)));
        }
        this.#inFlight--;
        this.#run(ANSWER, retryAfter || '', '', id, status);
        this.#pump();
        this.#release();
      });
  }

  #visible(visible) {
    this.#learn(VISIBILITY, '', '', '', visible ? 1 : 0);
  }

  #shown() {
    this.#hidden = false;
    this.#visible(true);
  }

  /** The page is being hidden or left: unless it is a move to another page of the shop, the
   * session's summary is made; then beacons carry what is not yet sent. Events stay stored
   * until a normal request is acknowledged, here or on the next page. */
  #hide() {
    // Leaving fires visibilitychange (hidden) and then pagehide: one leave, not two. Beacons go
    // on both, as the engine sends each event once: one tracked in between still goes.
    if (!this.#hidden) {
      this.#hidden = true;
      if (Date.now() - this.#navigating < NAVIGATION_WINDOW_MS) this.#visible(false);
      else this.#learn(LEAVE);
    }
    for (const body of this.#run(UNLOAD).split('\n')) {
      // Beacons cannot set headers: the body carries the write key, as text/plain (no preflight).
      if (body && !navigator.sendBeacon?.(this.#endpoint, body)) {
        fetch(this.#endpoint, { method: 'POST', body, keepalive: true }).catch(() => {});
      }
    }
    this.#pump();
  }
}

export async function init(options) {
  if (typeof window == 'undefined' || typeof document == 'undefined') {
    throw new Error('cartsense: init() needs a browser; during server-side rendering, call it on the client');
  }
  const { wasmUrl, insightWasmUrl, insightCampaignsWasmUrl, recsWasmUrl, onPrompt, ...rest } = options || {};
  if (onPrompt != null && typeof onPrompt != 'function') throw new Error('init: onPrompt must be a function');
  // A campaign document goes to the intelligence with the options; a URL is fetched once it has
  // loaded (campaigns.js), so it never delays the first event.
  let url;
  if (typeof rest.campaigns == 'string') {
    url = rest.campaigns.trim();
    if (!url) throw new Error('init: campaigns must be a campaign document or the URL of one, not an empty string');
    delete rest.campaigns;
  }
  // The visitor's local time, for the hour and weekday the intent model looks at.
  rest.timezoneOffset ??= -new Date().getTimezoneOffset();
  // The wasm file sits next to this module; bundlers see and copy it through this URL.
  loading ||= load({ module_or_path: wasmUrl || new URL('./cartsense_tracker_bg.wasm', import.meta.url) }).catch((error) => {
    loading = undefined; // let a later init() try again
    throw error;
  });
  await loading;
  const settings = json(rest, 'init', 'options');
  const store = openStorage(rest.storage);
  const stored = {};
  try {
    // Sorted, so queued events come back oldest first (message ids start with their time).
    for (const key of Object.keys(store || {}).sort()) {
      if (key.startsWith(PREFIX)) stored[key] = store.getItem(key);
    }
  } catch {
    // unreadable storage reads as empty
  }
  const privacySignal = navigator.globalPrivacyControl === true || navigator.doNotTrack == '1';
  const seed = crypto.getRandomValues(new Uint32Array(4));
  const engine = new Engine(settings, ...seed, privacySignal, JSON.stringify(stored), Date.now());
  const problem = engine.run(STATUS, '', '', '', 0, 0, 0);
  if (problem) {
    engine.free();
    throw new Error(problem);
  }
  const campaigns = url || rest.campaigns != null; // truthy: the build with the campaign engine
  const tracker = new Tracker(engine, store, { ...rest, recsWasmUrl }, campaigns ? { url, onPrompt } : null);
  // The intelligence loads now, after the first event is queued; until it is ready, the events
  // wait for it (profile() is null meanwhile). A failure costs the scores, never the tracking.
  // With campaigns, its build with the campaign engine and their glue (campaigns.js) load
  // together; a shop without campaigns downloads neither. The glue failing costs the prompts.
  import('./insight.js')
    .then((module) =>
      Promise.all([
        module.start(settings, Tracker.storedInsight(tracker), campaigns, campaigns ? insightCampaignsWasmUrl : insightWasmUrl),
        campaigns && import('./campaigns.js').catch((error) => warn('campaigns are unavailable: ' + error.message)),
      ]),
    )
    .then(([insight, glue]) => Tracker.attach(tracker, insight, glue))
    .catch((error) => Tracker.unavailable(tracker, error));
  await started.get(tracker);
  return tracker;
}
