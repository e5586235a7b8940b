// cartsense recommendations in the page: loads the recs wasm module (the model file and the
// ranker, src/core/recs/) when the shop calls loadRecommendations(), never with init(), so a
// shop without recommendations downloads none of it. It owns the model's handle, the catalogue
// (what the widget shows of an item), recommend() (the query from the shop, the session from
// the intelligence's RECS_FACTS: the shop passes none of it) and the filling of every
// [data-cs-recs] container through recs-widget.js, with the events a shown list and a click
// send. The shell (index.js) calls refill() after a profile change and on page() calls.

// Recs.run operations (src/wasm.rs, `recs_op`).
const STATUS = 0,
  RECOMMEND = 1;
// Cards a container shows unless its data-cs-limit says.
const DEFAULT_LIMIT = 4;
// A container asks the ranker for this many times its cards (at most the query's 100): the
// widget skips what the catalogue cannot describe, and the next items take their places. A shop
// whose model knows more products than its catalogue describes needs a wide margin: on the demo
// (80 products described, 6,493 in the model) asking for 3× filled 34 of the 80 product pages'
// four-card shelves, 10× fills all 80.
const OVERASK = 10;
// What a data-cs-recs may name: the engine's kinds (src/core/recs/page.rs, Kind).
const KINDS = 'similar, bought_together, for_you, recently_viewed or cart_completion';

const fail = (message) => {
  throw new Error('loadRecommendations: ' + message);
};

/** The model file's bytes, from a URL (string or URL) or an ArrayBuffer / Uint8Array. */
async function modelBytes(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof source != 'string' && !(source instanceof URL)) fail('the model must be a URL, an ArrayBuffer or a Uint8Array');
  let response;
  try {
    response = await fetch(source);
  } catch (error) {
    fail(`the model ${source} could not be fetched (${error.message})`);
  }
  if (!response.ok) fail(`the model ${source} could not be fetched (HTTP ${response.status})`);
  return new Uint8Array(await response.arrayBuffer());
}

/** `catalogue` as a function of a product id: an object map, the URL of one, or a function. */
async function catalogueLookup(catalogue) {
  if (catalogue == null) return () => undefined;
  if (typeof catalogue == 'function') {
    return (id) => {
      try {
        return catalogue(id) ?? undefined;
      } catch {
        return undefined; // the shop's lookup failing hides that card, not the list
      }
    };
  }
  if (typeof catalogue == 'string' || catalogue instanceof URL) {
    let response;
    try {
      response = await fetch(catalogue);
    } catch (error) {
      fail(`the catalogue ${catalogue} could not be fetched (${error.message})`);
    }
    if (!response.ok) fail(`the catalogue ${catalogue} could not be fetched (HTTP ${response.status})`);
    try {
      catalogue = await response.json();
    } catch {
      fail(`the catalogue ${catalogue} is not JSON`);
    }
  }
  if (!catalogue || typeof catalogue != 'object' || Array.isArray(catalogue)) {
    fail('catalogue must be an object map of product ids, the URL of one, or a function');
  }
  return (id) => (Object.hasOwn(catalogue, id) ? catalogue[id] : undefined);
}

/** Loads the module and the model. `session`: { facts() → RECS_FACTS JSON, track(event,
 * properties), warn(message), wasmUrl? }. Rejects with an Error naming what is wrong. */
export async function load(source, options, session) {
  if (options != null && typeof options != 'object') fail('options must be an object');
  const [bytes, lookup, glue] = await Promise.all([
    modelBytes(source),
    catalogueLookup(options?.catalogue),
    import('./cartsense_recs.js'),
  ]);
  // The wasm file sits next to its glue; a literal path, so that bundlers copy it.
  await glue.default({ module_or_path: session.wasmUrl || new URL('./cartsense_recs_bg.wasm', import.meta.url) });
  const handle = new glue.Recs(bytes);
  const problem = handle.run(STATUS, '', '');
  if (problem) {
    handle.free();
    fail(problem);
  }
  return new Recommendations(handle, lookup, session);
}

class Recommendations {
  #handle;
  #lookup;
  #session;
  #frame = 0;
  #shown = new WeakMap(); // container → the list it last reported shown
  #widget; // recs-widget.js, once imported
  #basis; // what the last fill was asked from: the session's views, cart, orders and top categories
  #listeners = new AbortController(); // the widget's click listeners, removed by dispose()
  #warned = new WeakMap(); // container → the last problem reported about it

  constructor(handle, lookup, session) {
    this.#handle = handle;
    this.#lookup = lookup;
    this.#session = session;
  }

  /** recommend(): the list for `query`, or an Error naming the field that is wrong. */
  recommend(query) {
    let text;
    try {
      // Non-finite numbers become strings, so that the engine names the field.
      text = JSON.stringify(query, (_, v) => (typeof v == 'number' && !isFinite(v) ? String(v) : v)) ?? '';
    } catch (error) {
      throw new Error(`recommend: query cannot be serialized (${error.message})`);
    }
    const answer = this.#handle.run(RECOMMEND, text, this.#session.facts());
    if (answer[0] != '[') throw new Error(answer);
    return JSON.parse(answer);
  }

  /** Fills every [data-cs-recs] container on the next animation frame (once per frame).
   * `changed`: after a profile change, only if what the lists are asked from changed (the
   * interest scores drift with time, their order does not): the lists' own Product List
   * Viewed is a profile change too, and must not refill them again. */
  refill(changed) {
    if (changed) {
      let facts;
      try {
        facts = JSON.parse(this.#session.facts() || '{}');
      } catch {
        facts = {};
      }
      const basis = JSON.stringify([facts.recent?.map((view) => view[0]), facts.cart, facts.bought, facts.interests?.map((c) => c[0])]);
      if (basis == this.#basis) return;
      this.#basis = basis;
    }
    this.#frame ||= requestAnimationFrame(() => {
      this.#frame = 0;
      this.#fillAll();
    });
  }

  async #fillAll() {
    const containers = [...document.querySelectorAll('[data-cs-recs]')];
    if (!containers.length || !this.#handle) return;
    try {
      this.#widget ??= await import('./recs-widget.js');
    } catch (error) {
      return this.#session.warn('the recommendations widget is unavailable: ' + error.message);
    }
    // The page's product: the one its markup marks as viewed (autocapture's data-cs-view).
    const pageProduct = document.querySelector('[data-cs-product][data-cs-view]')?.getAttribute('data-cs-product');
    for (const container of containers) {
      if (!this.#handle) return; // disposed meanwhile
      const kind = container.getAttribute('data-cs-recs');
      // An empty kind is a markup slip, not a default: the container is left as the shop wrote it.
      if (!kind.trim()) {
        this.#warn(container, 'must name a kind: ' + KINDS);
        continue;
      }
      const cards = Number(container.getAttribute('data-cs-limit') || DEFAULT_LIMIT);
      const limit = Number.isInteger(cards) && cards >= 1 ? Math.min(cards * OVERASK, 100) : cards; // else the query names it
      const productId = container.getAttribute('data-cs-product') || pageProduct || undefined;
      let items;
      try {
        items = this.recommend({ kind, limit, ...(productId && { productId }) });
      } catch (error) {
        this.#warn(container, error.message);
        continue;
      }
      try {
        this.#widget.fill(container, items, {
          catalogue: this.#lookup,
          onShown: (listId, products) => this.#onShown(container, listId, products),
          onClick: (listId, product, position) => this.#onClick(listId, product, position),
          signal: this.#listeners.signal,
        });
      } catch (error) {
        this.#warn(container, `the widget failed (${error.message})`);
      }
    }
  }

  /** A problem with a container, named by its tag and id (or classes); once, not on every
   * refill (each profile change and page() call). */
  #warn(container, problem) {
    const name = container.localName + (container.id ? '#' + container.id : [...container.classList].map((c) => '.' + c).join(''));
    const message = `data-cs-recs="${container.getAttribute('data-cs-recs')}" on ${name}: ${problem}`;
    if (this.#warned.get(container) == message) return;
    this.#warned.set(container, message);
    this.#session.warn(message);
  }

  /** `Product List Viewed`, once per change of what the container shows. */
  #onShown(container, listId, products) {
    const shown = JSON.stringify([listId, products]);
    if (this.#shown.get(container) == shown) return;
    this.#shown.set(container, shown);
    this.#session.track('Product List Viewed', { list_id: listId, products });
  }

  /** `Product Clicked`, tracked at once (the tracker stores it before the navigation). */
  #onClick(listId, product, position) {
    const { product_id, name, price, url } = product || {};
    const properties = { product_id, position, list_id: listId, name, price, url };
    for (const key in properties) if (properties[key] === undefined) delete properties[key];
    this.#session.track('Product Clicked', properties);
  }

  dispose() {
    cancelAnimationFrame(this.#frame);
    this.#listeners.abort(); // a click on a card shown by this instance now reports nothing
    this.#handle?.free();
    this.#handle = undefined;
  }
}
