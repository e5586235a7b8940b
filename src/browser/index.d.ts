/**
 * cartsense: storefront behaviour tracking in WebAssembly, delivered to any Segment-compatible
 * `/v1/batch` endpoint with nothing lost and nothing stored twice.
 *
 * @example
 * ```ts
 * import { init } from 'cartsense';
 * const tracker = await init({ endpoint: 'https://collector.example/v1/batch', writeKey: 'shop-1', currency: 'EUR' });
 * tracker.track('Product Added', { product_id: 'sku-42', price: 19.99, quantity: 1 });
 * ```
 */

/** What the visitor agreed to. While `pending`, nothing is sent and nothing is written to
 * storage; `denied` also clears what cartsense stored and sends nothing, ever. */
export type Consent = 'granted' | 'pending' | 'denied';

export interface Options {
  /** URL of a Segment-compatible `/v1/batch` endpoint (the cartsense collector, Segment,
   * RudderStack, Jitsu…). Required. */
  endpoint: string;
  /** Sent as HTTP Basic auth, and in the body of beacons (which cannot set headers). */
  writeKey?: string;
  /** ISO 4217 code (`"EUR"`) added to events that carry money but name no currency. */
  currency?: string;
  /** Default `'granted'`. Shops that must ask first pass `'pending'` and call
   * {@link Tracker.setConsent} when the visitor answers. */
  consent?: Consent;
  /** Capture page views and the `data-cs-*` markup (see README). Default `false`. */
  autocapture?: boolean;
  /** Events per batch: a batch goes as soon as this many wait. 1–500, default 20. */
  flushAt?: number;
  /** Longest an event waits before its batch goes, in ms. Default 5000. */
  flushInterval?: number;
  /** Inactivity after which the next event starts a new session, in ms. Default 1 800 000 (30 min). */
  sessionTimeout?: number;
  /** Most events kept waiting; beyond it the oldest are dropped and the count reported in the
   * next batch's `context.droppedEvents`. Default 1000. */
  maxQueue?: number;
  /** `'local'` (default): identity, session and pending events in first-party localStorage, so
   * they survive reloads. `'memory'`: nothing persisted. */
  storage?: 'local' | 'memory';
  /** Treat the browser's Global Privacy Control or Do Not Track signal as a denial of consent.
   * Default `false`. An explicit `setConsent('granted')` still wins. */
  respectPrivacySignals?: boolean;
  /** Where to load the tracker's `.wasm` file from, when it is not served next to this module (a CDN). */
  wasmUrl?: string | URL;
  /** Where to load the session intelligence's `.wasm` file from, likewise (the build without
   * the campaign engine, `cartsense_insight_bg.wasm`, which a page without `campaigns` loads). */
  insightWasmUrl?: string | URL;
  /** Where to load the session intelligence with the campaign engine from, likewise
   * (`cartsense_insight_campaigns_bg.wasm`: only a page with `campaigns` loads it). */
  insightCampaignsWasmUrl?: string | URL;
  /** Where to load the recommendations' `.wasm` file from, likewise (`cartsense_recs_bg.wasm`:
   * only a page that calls `loadRecommendations` loads it). */
  recsWasmUrl?: string | URL;
  /** `'full'` (default) sends every event; `'summary'` sends only `Session Summarized` and
   * identify calls: no raw clickstream leaves the page, the scores are still computed on it. */
  mode?: 'full' | 'summary';
  /** A merchant's own intent model file (made by `cartsense-lab train-intent`), as the parsed
   * JSON object or its text. A corrupt or mismatched file is refused with a console warning
   * naming the problem, and the compiled-in model stays in use. */
  model?: object | string;
  /** The shop's average order value, for the `value` segment (above or below it). */
  averageOrderValue?: number;
  /** Half-life of interest scores within a session, in ms. Default 900 000 (15 min). */
  interestHalfLife?: number;
  /** Weight of earlier sessions' interests in the profile, 0–1. Default 0.3. */
  interestHistoryWeight?: number;
  /** Keys kept per interest dimension, and how many `profile()` reports. 1–100, default 20. */
  profileEntries?: number;
  /** The visitor's time zone, in minutes east of UTC. Default: the browser's. */
  timezoneOffset?: number;
  /** Merchant campaigns (README, "Campaigns"): the document (`{ campaigns: [...] }` or the bare
   * array), or the URL of one, fetched once the session intelligence has loaded (it never delays
   * the first event). A campaign with mistakes is left out with a console warning naming the
   * path (`campaigns[2]: trigger.minCartValue must be a number ≥ 0`); the others keep working.
   * @example init({ endpoint, campaigns: '/campaigns.json' }) */
  campaigns?: CampaignDocument | Campaign[] | string;
  /** Renders prompts with the shop's own UI instead of the default dialog: called with the
   * prompt to show and a `report` function that must be told what happened (`'shown'` once it is
   * really on screen, then `'clicked'`, `'dismissed'` or `'copied'`; `'not_shown'` if it could
   * not be shown; `'closed'` if the page, not the visitor, took it away). Until the prompt is
   * closed (clicked, dismissed, closed or not shown) no other shows.
   * @example init({ endpoint, campaigns, onPrompt: (prompt, report) => { banner.show(prompt.title); report('shown'); } }) */
  onPrompt?: (prompt: Prompt, report: PromptReport) => void;
}

/** A campaign document, as `init({ campaigns })` takes it or its URL serves it. */
export interface CampaignDocument {
  campaigns: Campaign[];
}

/** One merchant campaign. Every field is described in README, "Campaigns". */
export interface Campaign {
  /** 1–64 letters, digits, `.`, `_` or `-`; unique in the document. */
  id: string;
  /** Higher wins when several campaigns could prompt; ties go to the one listed first. Default 0. */
  priority?: number;
  trigger: Trigger;
  eligibility?: Eligibility;
  offer: Offer;
  caps?: Caps;
  /** Share of visitors held out (shown nothing, `Prompt Held Out` recorded), 0–1. Default 0.1. */
  holdout?: number;
  /** ISO-8601 date-times; the campaign runs from `start` (inclusive) to `end` (exclusive). */
  schedule?: { start?: string; end?: string };
  /** Orders and coupons within this many hours of an exposure are attributed to it, 0–8784. Default 24. */
  attributionWindowHours?: number;
}

export type Trigger =
  | {
      type: 'exit_intent';
      /** The pointer leaves through the top edge at y ≤ this many px. Default 20. */
      sensitivity?: number;
      /** Not before this long on the page. Default 5. */
      minSecondsOnPage?: number;
      /** Touch devices: an upward scroll at ≥ this many px/s. Default 1500. */
      scrollSpeed?: number;
      /** Touch devices: the tab hidden and shown again. Default true. */
      tabReturn?: boolean;
      /** Touch devices: no interaction for this long. Default: off. */
      inactivitySeconds?: number;
    }
  | { type: 'abandonment_risk'; /** Default 0.6. */ minProbability?: number; /** Default 0. */ minCartValue?: number }
  | { type: 'cart_idle'; /** Default 60. */ seconds?: number; /** Default ['cart', 'checkout']. */ pageTypes?: string[] }
  | { type: 'spend_threshold'; threshold: number; /** Default 20 % of the threshold. */ within?: number }
  | { type: 'browsing_interest'; /** Default 3. */ minViews?: number; category?: string; productId?: string }
  | { type: 'returning_cart' };

/** Who may see a campaign: every rule given must hold; a list allows any of its values. */
export interface Eligibility {
  segments?: string | string[];
  /** Page types, from `data-cs-page` on `<body>` or `<html>`. */
  pageTypes?: string | string[];
  /** Path patterns, `*` matching any run of characters: `/products/*`. */
  paths?: string | string[];
  devices?: Device | Device[];
  utmSource?: string | string[];
  utmMedium?: string | string[];
  utmCampaign?: string | string[];
  visitor?: 'new' | 'returning';
  minCartValue?: number;
  maxCartValue?: number;
  consent?: Consent | Consent[];
}

export type Device = 'desktop' | 'tablet' | 'mobile';

export interface Offer {
  /** Default `'message'`. */
  kind?: 'percent' | 'amount' | 'free_shipping' | 'message';
  /** Percent off (0.01–100), amount off, or the shipping cost a free-shipping offer absorbs
   * (default 0). Not for a message. */
  value?: number;
  /** A shared code, or a single-use one fetched from `url` (`{"code": "..."}` or plain text)
   * when the prompt is about to show; no answer within `timeoutMs` (default 2000, at most
   * 10000) and the prompt is not shown. Not for a message. */
  code?: string | { url: string; timeoutMs?: number };
  /** Templates: `{product}`, `{toThreshold}`, `{discount}`, `{code}` are filled in. */
  title: string;
  message?: string;
  /** A call-to-action button's label (a template too): the default UI shows the button, whose
   * click closes the prompt as `Prompt Clicked`. */
  cta?: string;
  /** The lowest net cart value the offer may leave; an offer that would go below is not shown. */
  marginFloor?: number;
}

export interface Caps {
  /** Default 1. */
  perSession?: number;
  /** At most `count` shows in any `days`-day window. */
  perDays?: { count: number; days: number };
  /** After a dismissal, nothing from this campaign for this long. Default 86400 (a day). */
  cooldownAfterDismissSeconds?: number;
}

/** A prompt to show, as the engine decided it (templates filled in; all text, never markup). */
export interface Prompt {
  promptId: string;
  campaignId: string;
  title: string;
  message: string;
  offerKind: 'percent' | 'amount' | 'free_shipping' | 'message';
  /** What the offer takes off the cart. */
  discount: number;
  /** Spend thresholds: what the visitor still has to add. */
  toThreshold?: number;
  /** The shared code, or the single-use code fetched for this prompt. */
  code?: string;
  /** A call-to-action label, when the campaign has one: the default UI shows it as a button. */
  cta?: string;
}

export type PromptOutcome = 'shown' | 'not_shown' | 'clicked' | 'dismissed' | 'copied' | 'closed';

/** Tells cartsense what became of a prompt given to `onPrompt`; each turns into an event
 * (`Prompt Shown`, `Prompt Clicked`, `Prompt Dismissed`, `Coupon Copied`) but `'not_shown'`
 * and `'closed'` (the page removed it: no event, no dismissal cool-down). A click, copy or
 * dismissal before `'shown'` counts the show first. Reports after the
 * prompt closed are ignored; anything but a {@link PromptOutcome} throws a `TypeError`. */
export type PromptReport = (outcome: PromptOutcome) => void;

/** The properties of `Prompt Shown`, `Prompt Held Out`, `Prompt Clicked`, `Prompt Dismissed`
 * and `Coupon Copied` (README, "Campaign events"). */
export interface PromptEventProperties {
  campaign_id: string;
  arm: 'treatment' | 'holdout';
  prompt_id: string;
  trigger: Trigger['type'];
  /** Why the trigger fired, with its numbers: `pointer left at y 3 ≤ 20 after 12 s`. */
  rule?: string;
  intent?: number;
  abandonment?: number | null;
  cart_value?: number;
  currency?: string;
  offer_kind?: Offer['kind'];
  offer_value?: number;
  discount?: number;
  to_threshold?: number;
  coupon?: string;
  [field: string]: unknown;
}

/** What `Order Completed` and `Coupon Applied` gain within a campaign's attribution window. */
export interface CampaignAttribution {
  campaign_id: string;
  campaign_arm: 'treatment' | 'holdout';
}

/** An interest: a category path, brand, product id or price band, and its score. */
export interface Interest {
  key: string;
  score: number;
}

/** The lifecycle segment (README, "Lifecycle segments"). */
export interface Segment {
  visitor: 'new' | 'returning';
  recency: 'active' | 'cooling' | 'at_risk' | 'lapsed' | 'never';
  frequency: 'none' | 'one' | 'two' | 'three_plus';
  value: 'above' | 'below' | 'unknown';
  potential: 'cart_abandoner' | 'checkout_abandoner' | null;
}

/** What cartsense knows about the visitor and this session, computed on the device. */
export interface Profile {
  interests: { categories: Interest[]; brands: Interest[]; products: Interest[]; priceBands: Interest[] };
  /** P(this session ends with an order). */
  intent: number;
  /** P(the session ends without an order | the cart is not empty now); null with an empty cart. */
  abandonment: number | null;
  segment: Segment;
  cart: { items: { product_id: string; quantity: number; price?: number }[]; value: number; currency: string | null };
  session: { id: string | null; startedAt: string | null; events: number; visibleMs: number };
}

/** Properties of an event: the Segment e-commerce spec's fields plus any of the shop's own,
 * which pass through unchanged. At most 32 KB of JSON. */
export type Properties = Record<string, unknown>;

/** A product in spec events (`Product Viewed`, `Product Added`, and entries of `products`). */
export interface Product {
  product_id: string | number;
  sku?: string;
  name?: string;
  category?: string;
  brand?: string;
  variant?: string;
  /** A finite number, zero or more. */
  price?: number;
  /** A positive integer. */
  quantity?: number;
  coupon?: string;
  position?: number;
  url?: string;
  image_url?: string;
  [field: string]: unknown;
}

export interface Tracker {
  /**
   * Records an event. Spec events are validated: a mistake throws an `Error` naming the event
   * and field (`"Product Added: price must be a finite, non-negative number"`) and the event
   * is not queued; the tracker keeps working.
   * @example tracker.track('Order Completed', { order_id: 'o-1', revenue: 42, products: [{ product_id: 'p1', price: 42, quantity: 1 }] })
   */
  track(event: string, properties?: Properties | Product): void;
  /** Records a page view; properties start from the page's path, referrer, search, title and
   * url. With autocapture on, the page's `data-cs-*` containers are read again (for SPAs). */
  page(name?: string, properties?: Properties): void;
  page(properties: Properties): void;
  /** Ties later events to a known user. The user id is kept in storage. */
  identify(userId: string, traits?: Properties): void;
  /** The visitor answered the consent question. */
  setConsent(state: Consent): void;
  /** Resolves once every event queued before the call is acknowledged by the collector or
   * dropped for good (a 4xx). It keeps waiting through an outage, retrying with backoff; it
   * resolves at once while consent is not granted. */
  flush(): Promise<void>;
  /** A logout: new anonymous id, no user id, new session, empty visitor history. */
  reset(): void;
  /** Stops the tracker: stores the session intelligence's state, removes listeners and
   * timers, resolves any `flush()` still waiting (without waiting for delivery) and frees the
   * WebAssembly objects. Queued events stay stored and go with the next page. Afterwards
   * `profile()` is `null`, `flush()` resolves at once, and `track`, `page`, `identify`,
   * `setConsent` and `reset` throw. */
  dispose(): void;
  /**
   * The visitor's interests, intent and abandonment probabilities, segment, cart and session,
   * computed on the device. `null` for the moment after `init()` while the session
   * intelligence module loads (it never delays the first event); `onProfile` calls back once
   * it is there. `null` after `dispose()`.
   * @example if ((tracker.profile()?.abandonment ?? 0) > 0.7) showReminder();
   */
  profile(): Profile | null;
  /** Calls `listener` once with the current profile soon after it is registered (on the next
   * animation frame, or as soon as the intelligence module has loaded), then after each change,
   * at most once per animation frame and never from inside a tracker call. Returns a function
   * that stops it.
   * @example const stop = tracker.onProfile((profile) => render(profile.interests)); */
  onProfile(listener: (profile: Profile) => void): () => void;
  /**
   * Loads a recommendations model (made by `cartsense-lab build-recs`): a URL to fetch, or its
   * bytes. The recommendations module is downloaded only now (after the session intelligence).
   * Then every `[data-cs-recs]` container on the page is filled (again after each profile
   * change, at most once per animation frame, and on `page()` calls), sending `Product List
   * Viewed` when a list's content changes and `Product Clicked` on a card's click. Rejects with
   * an `Error` naming what is wrong (a truncated or altered file, another format version, a
   * fetch that failed); tracking goes on without recommendations.
   * @example await tracker.loadRecommendations('/recs.bin', { catalogue: '/catalog.json' });
   */
  loadRecommendations(model: string | URL | ArrayBuffer | Uint8Array, options?: RecommendationOptions): Promise<void>;
  /**
   * Recommendations from this session (its recent views, cart, orders and interests: the shop
   * passes none of them), best first. `[]` until a model has loaded. Throws an `Error` naming
   * the field of a bad query (`"recommend: productId is required for kind 'similar'"`).
   * @example tracker.recommend({ kind: 'similar', productId: 'sku-1', limit: 4 });
   */
  recommend(query: RecommendationQuery): Recommendation[];
  /** The visitor's random id (a UUID), kept in first-party localStorage. */
  readonly anonymousId: string;
  readonly userId: string | undefined;
  /** The current session's id, once an event has started one. */
  readonly sessionId: string | undefined;
  /** Events waiting to be acknowledged. */
  readonly pending: number;
}

/** What the recommendations widget shows of a product; an item without one is skipped. */
export interface CatalogueEntry {
  name: string;
  url: string;
  image?: string;
  price?: number;
  currency?: string;
  brand?: string;
  category?: string;
}

export interface RecommendationOptions {
  /** What the widget shows: a map of product ids, the URL of such a JSON map, or a function. */
  catalogue?:
    | Record<string, CatalogueEntry>
    | string
    | URL
    | ((productId: string) => CatalogueEntry | undefined);
}

export type RecommendationKind = 'similar' | 'bought_together' | 'for_you' | 'recently_viewed' | 'cart_completion';

export interface RecommendationQuery {
  kind: RecommendationKind;
  /** The product on screen: required for `similar`; left out of every list. */
  productId?: string;
  /** 1–100, default 10. */
  limit?: number;
  /** Never recommend these (out of stock, hidden). */
  exclude?: string[];
  /** Only items priced within [min, max]. */
  priceRange?: [number, number];
  /** Only items of this category. */
  category?: string;
  /** `cart_completion`: the spend the cart should reach. */
  spendThreshold?: number;
}

export interface Recommendation {
  product_id: string;
  score: number;
  reason: 'similar' | 'bought_together' | 'popular_in_category' | 'recently_viewed' | 'popular';
}

/**
 * Loads the WebAssembly module (once) and starts a tracker. Rejects with an `Error` naming the
 * option at fault (`"init: flushAt must be a whole number from 1 to 500"`), or when called without
 * a browser (during server-side rendering: importing is safe, `init()` belongs on the client).
 */
export function init(options: Options): Promise<Tracker>;
