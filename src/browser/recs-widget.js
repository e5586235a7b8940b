// cartsense recommendations widget: renders ranked products into a page's [data-cs-recs]
// containers from the merchant's <template>, and reports what was shown and clicked.
//
// Owns only the DOM of its cards. The shell (index.js) decides what to recommend (reading the
// container's data-cs-recs / data-cs-limit / data-cs-product to build the query), imports this
// module lazily after a model has loaded, and turns onShown/onClick into the tracked events
// `Product List Viewed` and `Product Clicked`. Safe to import during server-side rendering:
// nothing here touches the DOM until fill() is called.
//
// No duplicate events with autocapture: the widget's cards carry data-cs-product and
// data-cs-position, but the container is not a data-cs-list, and autocapture ignores everything
// inside a [data-cs-recs] container. The widget alone reports its list views and clicks (so
// they are also tracked with autocapture off).

const DEFAULT_LIMIT = 4;
const MAX_LIMIT = 50;

// Per container: the cards on the page, what they show, and the latest callbacks.
const rendered = new WeakMap();

/** `raw` as an absolute http(s) URL, or null: no javascript:, data: or other schemes. */
function safeUrl(raw) {
  if (typeof raw != 'string' || !raw.trim()) return null;
  try {
    const url = new URL(raw, document.baseURI);
    return url.protocol == 'http:' || url.protocol == 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

// Properties without the keys a catalogue entry left out (events carry no undefined fields).
const defined = (properties) => {
  for (const key in properties) if (properties[key] === undefined) delete properties[key];
  return properties;
};

const finite = (value) => (typeof value == 'number' && isFinite(value) ? value : undefined);

const text = (value) => (typeof value == 'string' && value.trim() ? value : undefined);

function lookup(catalogue, id) {
  if (typeof catalogue == 'function') return catalogue(id);
  // Own properties only: a product id such as "constructor" must not find Object's prototype.
  if (catalogue && typeof catalogue == 'object' && Object.hasOwn(catalogue, id)) return catalogue[id];
  return undefined;
}

// What a card shows for a product, or null when the catalogue cannot describe it (no entry,
// no name, or no URL a link may safely point at).
function describe(catalogue, id) {
  const entry = lookup(catalogue, id);
  if (!entry || typeof entry != 'object') return null;
  const name = text(entry.name);
  const url = safeUrl(entry.url);
  if (!name) return null;
  if (!url) {
    if (entry.url != null) console.warn(`cartsense recommendations: product ${id} skipped, its catalogue url is not an http(s) or relative URL`);
    return null;
  }
  return {
    product_id: id,
    name,
    url,
    price: finite(entry.price),
    currency: text(entry.currency),
    brand: text(entry.brand),
    image: safeUrl(entry.image),
  };
}

function formatPrice(price, currency) {
  let locale;
  try {
    locale = Intl.getCanonicalLocales(document.documentElement.lang)[0];
  } catch {
    // no lang, or not a language tag (`en_US`), which Intl refuses: the browser's locale
  }
  try {
    if (currency) return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(price);
  } catch {
    // an unknown currency code: show the amount alone
  }
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(price);
}

// The card a template describes; without one, a plain link with the name and the price.
function cardTemplate(container) {
  const id = container.getAttribute('data-cs-template');
  if (id) {
    const named = document.getElementById(id);
    if (!(named instanceof HTMLTemplateElement)) {
      throw new Error(`cartsense recommendations: data-cs-template="${id}" names no <template> element`);
    }
    return named.content;
  }
  const child = container.querySelector(':scope > template');
  if (child) return child.content;
  const link = document.createElement('a');
  link.setAttribute('data-cs-field', 'url');
  for (const field of ['name', 'price']) {
    const span = document.createElement('span');
    span.setAttribute('data-cs-field', field);
    link.append(span, ' ');
  }
  const fragment = document.createDocumentFragment();
  fragment.append(link);
  return fragment;
}

function renderCard(template, product, position) {
  const card = template.firstElementChild?.cloneNode(true);
  if (!card) throw new Error('cartsense recommendations: the card <template> has no element');
  card.setAttribute('data-cs-product', product.product_id);
  card.setAttribute('data-cs-position', String(position));
  const fields = [...card.querySelectorAll('[data-cs-field]')];
  if (card.hasAttribute('data-cs-field')) fields.push(card);
  for (const element of fields) {
    const field = element.getAttribute('data-cs-field');
    if (field == 'url') element.setAttribute('href', product.url);
    else if (field == 'image') {
      if (product.image) {
        element.setAttribute('src', product.image);
        element.setAttribute('alt', product.name);
      } else element.hidden = true;
    } else if (field == 'price') {
      if (product.price == null) element.hidden = true;
      else element.textContent = formatPrice(product.price, product.currency);
    } else if (field == 'name' || field == 'brand') {
      const value = product[field];
      if (value == null) element.hidden = true;
      else element.textContent = value;
    }
  }
  return card;
}

function limitOf(container) {
  const limit = Number(container.getAttribute('data-cs-limit'));
  return Number.isInteger(limit) && limit >= 1 ? Math.min(limit, MAX_LIMIT) : DEFAULT_LIMIT;
}

/** The list id events carry: "<kind>", or "similar:<productId>" for the product it is about. */
function listIdOf(container, kind) {
  if (kind != 'similar') return kind;
  const product =
    container.getAttribute('data-cs-product') ||
    document.querySelector('[data-cs-product][data-cs-view]')?.getAttribute('data-cs-product');
  return product ? `${kind}:${product}` : kind;
}

// One delegated listener per container and recs instance: a click on a link in a card is a
// Product Clicked (Enter on a focused card link is a click too). It runs before the navigation
// it starts.
function onContainerClick(event) {
  const state = rendered.get(event.currentTarget);
  const target = event.target instanceof Element ? event.target : event.target?.parentElement;
  if (!state || !target?.closest('a[href]')) return;
  const index = state.cards.findIndex((card) => card.contains(target));
  if (index < 0) return;
  const { product_id, name, price, url } = state.products[index];
  state.onClick?.(state.listId, defined({ product_id, name, price, url }), index + 1);
}

/**
 * Renders `items` (the ranker's `[{ product_id, score, reason }]`, best first) into `container`
 * as at most `data-cs-limit` (default 4) cards cloned from its template, and returns how many
 * cards it rendered. Items the catalogue cannot describe are skipped. The previous cards are
 * replaced in place and the container keeps its height, so an update causes no layout shift;
 * with no cards it gets `data-cs-empty`. `onShown(listId, products)` runs when the cards shown
 * change; `onClick(listId, product, position)` on a click on a card link (position is 1-based).
 * The click listener is removed when `signal` (the recs instance's, aborted by its dispose())
 * aborts. A container whose data-cs-recs names no kind is an error, and is left untouched.
 */
export function fill(container, items, { catalogue, onShown, onClick, signal } = {}) {
  if (!(container instanceof Element)) throw new TypeError('cartsense recommendations: container must be an Element');
  if (!Array.isArray(items)) throw new TypeError('cartsense recommendations: items must be an array');
  const kind = container.getAttribute('data-cs-recs');
  if (!kind?.trim()) throw new Error("cartsense recommendations: the container's data-cs-recs must name a kind");
  const template = cardTemplate(container);
  const limit = limitOf(container);

  const products = [];
  const seen = new Set();
  for (const item of items) {
    if (products.length == limit) break;
    const id = item?.product_id;
    if ((typeof id != 'string' && typeof id != 'number') || seen.has(String(id))) continue;
    seen.add(String(id));
    const product = describe(catalogue, String(id));
    if (product) products.push(product);
  }
  const cards = products.map((product, i) => renderCard(template, product, i + 1));

  const previous = rendered.get(container);
  const old = previous?.cards.filter((card) => card.isConnected) ?? [];
  // Fewer cards than before must not shrink the container and pull the content below it up.
  if (cards.length < old.length) {
    const height = container.getBoundingClientRect().height;
    // (a flex or grid item's min-height computes to "auto": no reserved height of its own)
    if (height > (parseFloat(getComputedStyle(container).minHeight) || 0)) container.style.minHeight = `${height}px`;
  }
  // Swap in one synchronous step, where the old cards were: no frame shows a half-built list.
  if (old.length) old[0].before(...cards);
  else (container.querySelector('[data-cs-cards]') || container).append(...cards);
  for (const card of old) card.remove();
  container.toggleAttribute('data-cs-empty', cards.length == 0);

  // A new recs instance's fill (a new tracker on the page) replaces the old one's listener: one
  // click, one event. A new function each time: in Chromium, aborting a signal removes the
  // listener with that function even if it has been added again since under another signal.
  let listen = previous?.listen;
  if (!previous || previous.signal != signal) {
    container.removeEventListener('click', listen);
    container.addEventListener('click', (listen = (event) => onContainerClick(event)), { signal });
  }
  const listId = listIdOf(container, kind);
  const signature = listId + ' ' + products.map((p) => p.product_id).join(' ');
  rendered.set(container, { cards, products, listId, onClick, signature, signal, listen });
  // (a new recs instance, a new tracker, has not reported the list: analysts count its views)
  if (cards.length && (signature != previous?.signature || previous.signal != signal)) {
    onShown?.(
      listId,
      products.map(({ product_id, name, price }, i) => defined({ product_id, position: i + 1, name, price })),
    );
  }
  return cards.length;
}
