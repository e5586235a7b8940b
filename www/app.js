// cartsense demo storefront: renders every page from catalog.json and the cart in localStorage,
// then starts cartsense. Plain ES module, no dependencies.
//
// Analytics contract: this file never calls tracker.track(). The e-commerce events come from the
// data-cs-* markup written here and in shop.js, read by cartsense's autocapture:
//   data-cs-list     → Product List Viewed (load) and Product Clicked (click on a card link)
//   data-cs-view     → Product Viewed (load)         data-cs-add    → Product Added (click)
//   data-cs-remove   → Product Removed (click)       data-cs-cart   → Cart Viewed (load)
//   data-cs-checkout → Checkout Started (load)       data-cs-order  → Order Completed (load)
// Recommendations: the [data-cs-recs] shelves below (recsShelf) are filled by cartsense itself
// once the model (/recs.bin, built by `npm start`) has loaded; it reports their list views and
// clicks, and autocapture leaves them alone.
// The containers are in the DOM before init() is called. The shop's own handlers only update
// localStorage and the page; DOM removals are deferred until the click has finished dispatching,
// so a listener on the document still finds the clicked element inside its product and container.
//
// Hooks for tests: <html data-ready> once the page is rendered, <html data-tracker="ready|off">
// once init() has settled, window.cartsense (the Tracker) or window.cartsenseError.

import {
  CART_ICON, CART_KEY, CHECK_ICON, MAX_QTY, ORDERS_KEY, addToCart, breadcrumbs, byId,
  cartDetails, cartId, catalog, categoryHref, categoryName, categoryOf, cents, clampQty,
  getCart, h, icon, money, notFound, orderLine, placeholder, plain,
  productData, productHref, productList, readJSON, renderFooter, renderHeader, setCart, setCatalog, setMain,
  status, summaryRows, totals, updateBadge, writeJSON,
} from './shop.js';

// The merchant campaigns (campaigns.json, served next to the shop) are fetched by cartsense once
// its session intelligence has loaded; the page type they target is <body data-cs-page>.
const TRACKER_OPTIONS = {
  endpoint: '/v1/batch', writeKey: 'demo', currency: 'USD', autocapture: true, flushInterval: 2000,
  campaigns: '/campaigns.json',
};

const params = new URLSearchParams(location.search);
const pageName = document.body.dataset.page || 'home';
const consentParam = ['pending', 'denied', 'granted'].includes(params.get('consent')) ? params.get('consent') : null;
// ?mode=summary: the privacy-friendly mode, where only session summaries and identify calls are sent.
const modeParam = params.get('mode') === 'summary' ? 'summary' : null;
// ?storage=memory: nothing persisted (identity, queue and intelligence live only in the page).
const storageParam = params.get('storage') === 'memory' ? 'memory' : null;
// ?recs=off: no recommendations model is loaded (the shelves stay empty, and send nothing), for
// the rest of the tab's visit (sessionStorage), so the links of the shop keep it; ?recs=on undoes it.
const RECS_KEY = 'demo.recs';
if (['off', 'on'].includes(params.get('recs'))) {
  try { sessionStorage.setItem(RECS_KEY, params.get('recs')); } catch { /* storage unavailable: this page only */ }
}
const recsParam = (() => {
  try { return params.get('recs') || sessionStorage.getItem(RECS_KEY); } catch { return params.get('recs'); }
})() === 'off' ? 'off' : null;
let consentChoice = null; // a banner choice made before the tracker was ready

// ---------- recommendations ----------

/** A shelf cartsense fills with recommendations of `kind`: a heading, the card grid, and the
 * card <template> (the shop's card look). Its CSS min-height keeps the space while the model
 * loads, so filling it moves nothing on the page. */
function recsShelf(kind, heading, attributes = {}) {
  const template = document.createElement('template');
  template.content.append(
    h('li', {},
      h('a', { class: 'card', 'data-cs-field': 'url' },
        h('div', { class: 'ph ph-recs', 'aria-hidden': 'true' }, h('span', { class: 'ph-brand', 'data-cs-field': 'brand' })),
        h('span', { class: 'card-body' },
          h('span', { class: 'card-brand', 'data-cs-field': 'brand' }),
          h('span', { class: 'card-name', 'data-cs-field': 'name' }),
          h('span', { class: 'card-price', 'data-cs-field': 'price' })))));
  const headingId = `recs-${kind}-h`;
  return h('section', { class: 'shelf recs', 'aria-labelledby': headingId, 'data-cs-recs': kind, 'data-cs-limit': 4, ...attributes },
    h('div', { class: 'shelf-head' }, h('h2', { id: headingId }, heading)),
    h('ul', { class: 'grid grid-4', role: 'list', 'data-cs-cards': true }),
    h('p', { class: 'muted recs-empty' }, 'No suggestions right now.'),
    template);
}

/** What the recommendation cards show: the demo's 80 products. The model knows many more
 * REES46 products; the widget skips those this catalogue cannot describe. */
function recsCatalogue() {
  return Object.fromEntries(catalog.products.map((p) => [p.id, {
    name: p.name, url: productHref(p.id), price: p.price, currency: 'USD', brand: p.brand, category: p.category,
  }]));
}

// ---------- pages ----------

function renderHome() {
  const [first] = catalog.categories;
  const hero = h('section', { class: 'hero' },
    h('div', { class: 'hero-text' },
      h('p', { class: 'eyebrow' }, 'Autumn collection · real catalogue'),
      h('h1', {}, 'Tech and home essentials, at prices that were real.'),
      h('p', { class: 'lead' }, `${catalog.products.length} products across ${catalog.categories.length} departments, taken from a real store's October 2019 data. Browse, fill your cart and check out — every step is measured by cartsense.`),
      first && h('div', { class: 'hero-actions' },
        h('a', { class: 'btn', href: categoryHref(first.code) }, `Shop ${first.name}`),
        h('a', { class: 'btn btn-ghost', href: '#shelves' }, 'Browse all departments'))),
    h('div', { class: 'hero-art', 'aria-hidden': 'true' },
      catalog.categories.slice(0, 3).map((c) => {
        const p = catalog.products.find((x) => x.category === c.code);
        return p ? placeholder(p) : null;
      })));
  const shelves = catalog.categories.map((c) => {
    const products = catalog.products.filter((p) => p.category === c.code).slice(0, 4);
    const headingId = `shelf-${c.code.replace(/[^a-z0-9]+/gi, '-')}`;
    return h('section', { class: 'shelf', 'aria-labelledby': headingId },
      h('div', { class: 'shelf-head' },
        h('h2', { id: headingId }, c.name),
        h('a', { class: 'more', href: categoryHref(c.code) }, 'View all ', h('span', { class: 'visually-hidden' }, c.name), ` (${c.count})`)),
      productList(`home-${c.code}`, c.code, products, 'grid-4'));
  });
  setMain(hero, recsShelf('for_you', 'Picked for you'), h('div', { id: 'shelves' }, shelves));
}

function renderCategory() {
  const code = params.get('c');
  const c = categoryOf(code);
  if (!c) return notFound('Category not found', 'That department does not exist. Pick one from the menu above.');
  document.title = `${c.name} · cartsense demo`;
  const products = catalog.products.filter((p) => p.category === c.code);
  setMain(
    breadcrumbs(['Home', 'index.html'], [c.name]),
    h('div', { class: 'page-head' },
      h('h1', {}, c.name),
      h('p', { class: 'muted' }, `${products.length} products · ${c.department} · `, h('code', {}, c.code))),
    productList(`category-${c.code}`, c.code, products));
}

function renderProduct() {
  const p = byId.get(params.get('id') || '');
  if (!p) return notFound('Product not found', 'We could not find that product. It may have left the catalogue.');
  document.title = `${p.name} · cartsense demo`;
  const c = categoryOf(p.category);
  const qty = h('input', { id: 'qty', name: 'quantity', type: 'number', inputmode: 'numeric', min: 1, max: MAX_QTY, step: 1, value: 1 });
  const fixQty = () => { qty.value = String(clampQty(qty.value)); };
  qty.addEventListener('change', fixQty);
  const step = (delta) => () => { qty.value = String(clampQty(clampQty(qty.value) + delta)); };
  const addButton = h('button', { type: 'button', class: 'btn btn-lg', 'data-cs-add': true, 'data-cs-quantity-from': '#qty' }, icon(CART_ICON), 'Add to cart');
  addButton.addEventListener('click', () => {
    fixQty(); // the tracker reads #qty too: keep it a positive integer
    const quantity = clampQty(qty.value);
    addToCart(p.id, quantity);
    status(`Added ${quantity} × ${p.name} to your cart. `, h('a', { href: 'cart.html' }, 'View cart'));
  });
  qty.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    // Clamp before the click: autocapture reads #qty in the capture phase, before the button's
    // own handler runs, and Enter brings no change event (no blur) to clamp it earlier.
    fixQty();
    addButton.click();
  });

  const article = h('article', { class: 'pdp', ...productData(p), 'data-cs-view': true },
    h('div', { class: 'pdp-media' }, placeholder(p, 'ph-lg')),
    h('div', { class: 'pdp-info' },
      h('p', { class: 'eyebrow' }, p.brand),
      h('h1', {}, p.name),
      h('p', { class: 'pdp-price' }, money(cents(p.price))),
      h('p', { class: 'stock' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), 'In stock — ships in 1–2 business days'),
      h('p', { class: 'pdp-desc' }, `The ${p.name} from ${p.brand}, part of our ${categoryName(p.category).toLowerCase()} range. Listed at its most recent price in the real REES46 store data.`),
      h('div', { class: 'buy' },
        h('div', { class: 'qty-field' },
          h('label', { for: 'qty' }, 'Quantity'),
          h('div', { class: 'stepper' },
            h('button', { type: 'button', class: 'step', 'aria-label': 'Decrease quantity', onclick: step(-1) }, '−'),
            qty,
            h('button', { type: 'button', class: 'step', 'aria-label': 'Increase quantity', onclick: step(1) }, '+'))),
        addButton),
      h('dl', { class: 'specs' },
        h('div', {}, h('dt', {}, 'Brand'), h('dd', {}, p.brand)),
        h('div', {}, h('dt', {}, 'Category'), h('dd', {}, h('code', {}, p.category))),
        h('div', {}, h('dt', {}, 'Product ID'), h('dd', {}, p.id))),
      h('ul', { class: 'perks' },
        h('li', {}, 'Free shipping on orders over $100'),
        h('li', {}, '30-day returns'),
        h('li', {}, 'Secure demo checkout — nothing is charged'))));

  const related = catalog.products.filter((x) => x.category === p.category && x.id !== p.id).slice(0, 4);
  setMain(
    breadcrumbs(['Home', 'index.html'], [c ? c.name : p.category, categoryHref(p.category)], [p.name]),
    article,
    recsShelf('similar', 'Similar products', { 'data-cs-product': p.id }),
    related.length > 0 && h('section', { class: 'shelf', 'aria-labelledby': 'related-h' },
      h('div', { class: 'shelf-head' }, h('h2', { id: 'related-h' }, `More ${categoryName(p.category)}`)),
      productList(`related-${p.category}`, p.category, related, 'grid-4')));
}

function renderCart() {
  const lines = getCart();
  const items = cartDetails(lines);
  const list = h('ul', { class: 'lines', role: 'list' }, items.map((it) => orderLine(it, { editable: true })));
  const summary = h('div', { class: 'sum-wrap' });
  const empty = h('div', { class: 'empty-cart' },
    h('p', {}, 'Your cart is empty.'), h('a', { class: 'btn', href: 'index.html' }, 'Continue shopping'));
  const heading = h('h1', { tabindex: '-1' }, 'Your cart');
  const aside = h('aside', { class: 'panel summary', 'aria-label': 'Cart summary' },
    h('h2', {}, 'Summary'), summary,
    h('a', { class: 'btn btn-lg btn-block', href: 'checkout.html' }, 'Checkout'),
    h('a', { class: 'btn-link continue', href: 'index.html' }, 'Continue shopping'));

  // The cart as just read or written; the default reads it (after a removal, in a later task).
  const refresh = (current = getCart()) => {
    const t = totals(cartDetails(current));
    summary.replaceChildren(summaryRows(t, { estimate: true }));
    const isEmpty = t.count === 0;
    empty.hidden = !isEmpty;
    list.hidden = isEmpty;
    aside.hidden = isEmpty;
  };

  list.addEventListener('change', (e) => {
    const input = e.target.closest('.qty-input');
    if (!input) return;
    const line = input.closest('[data-cs-product]');
    const quantity = clampQty(input.value);
    input.value = String(quantity);
    const updated = getCart().map((l) => (l.id === line.dataset.csProduct ? { ...l, quantity } : l));
    setCart(updated);
    line.setAttribute('data-cs-quantity', String(quantity));
    line.querySelector('.line-total').textContent = money(cents(line.dataset.csPrice) * quantity);
    refresh(updated);
  });
  list.addEventListener('click', (e) => {
    const button = e.target.closest('[data-cs-remove]');
    if (!button) return;
    const line = button.closest('[data-cs-product]');
    const id = line.dataset.csProduct;
    setCart(getCart().filter((l) => l.id !== id));
    // Leave the line in place until the click has finished dispatching (autocapture reads it).
    setTimeout(() => {
      line.remove();
      refresh();
      heading.focus();
      status(`Removed ${line.dataset.csName} from your cart.`);
    }, 0);
  });

  document.title = 'Your cart · cartsense demo';
  setMain(
    heading,
    h('div', { class: 'cart-layout', 'data-cs-cart': cartId() },
      h('section', { class: 'panel', 'aria-label': 'Cart items' }, list, empty),
      aside),
    // Outside the data-cs-cart container: suggestions are not cart lines.
    recsShelf('bought_together', 'Often bought together'));
  refresh(lines);
}

function renderCheckout() {
  const items = cartDetails();
  document.title = 'Checkout · cartsense demo';
  if (items.length === 0) {
    setMain(h('section', { class: 'empty-state' },
      h('h1', {}, 'Checkout'), h('p', {}, 'Your cart is empty, so there is nothing to check out yet.'),
      h('a', { class: 'btn', href: 'index.html' }, 'Continue shopping')));
    return;
  }
  const t = totals(items);
  const field = (id, label, input, hint) => h('div', { class: 'field' },
    h('label', { for: id }, label, input.required ? null : h('span', { class: 'optional' }, ' (optional)')), input,
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint));
  const form = h('form', { id: 'checkout-form', class: 'panel checkout-form', 'aria-labelledby': 'checkout-h' },
    h('h2', { id: 'checkout-h' }, 'Contact and delivery'),
    field('name', 'Name', h('input', { id: 'name', name: 'name', type: 'text', autocomplete: 'name', required: true })),
    field('email', 'Email', h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'email', required: true, 'aria-describedby': 'email-hint' }),
      'We only use it to show your confirmation. Nothing is sent.'),
    field('address', 'Address', h('textarea', { id: 'address', name: 'address', rows: 3, autocomplete: 'street-address' })),
    h('button', { type: 'submit', class: 'btn btn-lg btn-block' }, 'Place order'),
    h('p', { class: 'hint' }, 'Demo checkout: no payment is taken and the form is not sent anywhere.'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const data = new FormData(form);
    const order = placeOrder({
      name: String(data.get('name') || '').trim(),
      email: String(data.get('email') || '').trim(),
      address: String(data.get('address') || '').trim(),
    });
    location.assign(`order.html?id=${encodeURIComponent(order.id)}`);
  });

  setMain(
    breadcrumbs(['Cart', 'cart.html'], ['Checkout']),
    h('h1', {}, 'Checkout'),
    h('div', { class: 'checkout-layout' },
      form,
      h('aside', {
        class: 'panel summary', 'aria-labelledby': 'order-sum-h',
        'data-cs-checkout': cartId(), 'data-cs-value': plain(t.subtotal), 'data-cs-shipping': plain(t.shipping),
        'data-cs-tax': plain(t.tax), 'data-cs-currency': 'USD',
      },
      h('h2', { id: 'order-sum-h' }, 'Order summary'),
      h('ul', { class: 'lines lines-compact', role: 'list' }, items.map((it) => orderLine(it))),
      summaryRows(t))));
}

function placeOrder(customer) {
  const items = cartDetails();
  const t = totals(items);
  const orders = readJSON(ORDERS_KEY, []);
  const list = Array.isArray(orders) ? orders : [];
  let stamp = Date.now();
  while (list.some((o) => o && o.id === `ORD-${stamp.toString(36)}`)) stamp++;
  const order = {
    id: `ORD-${stamp.toString(36)}`,
    createdAt: new Date().toISOString(),
    cartId: cartId(),
    customer,
    currency: 'USD',
    items: items.map(({ id, name, brand, category, price, quantity }) => ({ id, name, brand, category, price, quantity })),
    subtotal: plain(t.subtotal),
    shipping: plain(t.shipping),
    tax: plain(t.tax),
    total: plain(t.total),
  };
  list.push(order);
  writeJSON(ORDERS_KEY, list.slice(-20));
  setCart([]);
  return order;
}

function renderOrder() {
  const id = params.get('id') || '';
  const orders = readJSON(ORDERS_KEY, []);
  const order = Array.isArray(orders) ? orders.find((o) => o && o.id === id) : null;
  if (!order || !Array.isArray(order.items)) {
    return notFound('Order not found', 'We could not find that order in this browser.');
  }
  document.title = `Order ${order.id} · cartsense demo`;
  const t = {
    subtotal: cents(order.subtotal), shipping: cents(order.shipping), tax: cents(order.tax), total: cents(order.total),
    count: order.items.reduce((s, it) => s + it.quantity, 0),
  };
  const placed = new Date(order.createdAt);
  const c = order.customer || {};
  setMain(h('section', {
    class: 'order', 'aria-labelledby': 'order-h',
    'data-cs-order': order.id, 'data-cs-revenue': order.subtotal, 'data-cs-subtotal': order.subtotal,
    'data-cs-total': order.total, 'data-cs-shipping': order.shipping, 'data-cs-tax': order.tax, 'data-cs-currency': 'USD',
  },
  h('div', { class: 'order-head' },
    icon(CHECK_ICON, 'icon success-mark'),
    h('div', {},
      h('h1', { id: 'order-h' }, c.name ? `Thank you, ${c.name.split(/\s+/)[0]}!` : 'Thank you for your order!'),
      h('p', { class: 'lead' }, 'Your order ', h('strong', { id: 'order-id' }, order.id), ' is confirmed.',
        Number.isNaN(placed.getTime()) ? '' : ` Placed ${placed.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' })}.`))),
  h('div', { class: 'checkout-layout' },
    h('div', { class: 'panel' },
      h('h2', {}, 'Items'),
      h('ul', { class: 'lines lines-compact', role: 'list' }, order.items.map((it) => orderLine(it)))),
    h('aside', { class: 'panel summary', 'aria-label': 'Order totals' },
      h('h2', {}, 'Totals'), summaryRows(t),
      h('h2', {}, 'Delivery'),
      h('p', { class: 'address' }, c.name && h('strong', {}, c.name), c.name && h('br'), c.address || 'No address given (demo order).'),
      c.email && h('p', { class: 'muted' }, `Confirmation for ${c.email} — not actually sent.`),
      h('a', { class: 'btn btn-block', href: 'index.html' }, 'Continue shopping')))));
}

// ---------- consent banner and tracker ----------

function renderConsentBanner() {
  if (consentParam !== 'pending') return;
  const banner = h('section', { class: 'consent', 'aria-label': 'Privacy choices' },
    h('p', {}, h('strong', {}, 'Analytics cookies. '), 'This demo uses cartsense to measure how the shop is used. Nothing is sent until you accept.'),
    h('div', { class: 'consent-actions' },
      h('button', { type: 'button', class: 'btn btn-ghost', 'data-consent': 'denied' }, 'Decline'),
      h('button', { type: 'button', class: 'btn', 'data-consent': 'granted' }, 'Accept')));
  banner.addEventListener('click', (e) => {
    const choice = e.target.closest('[data-consent]')?.dataset.consent;
    if (!choice) return;
    consentChoice = choice;
    applyConsent();
    banner.remove();
    status(choice === 'granted' ? 'Thanks — analytics enabled.' : 'Analytics declined. Nothing will be sent.');
  });
  document.body.append(banner);
}

function applyConsent() {
  const tracker = window.cartsense;
  if (!tracker || !consentChoice) return;
  try {
    tracker.setConsent(consentChoice); // synchronous: a bad state throws
  } catch (err) {
    console.warn('[cartsense demo] setConsent failed', err);
  }
}

// Equivalent to `import { init } from './cartsense/index.js'`, loaded dynamically so that the
// shop keeps working when the package has not been built into www/cartsense/.
async function startTracker() {
  const options = { ...TRACKER_OPTIONS };
  if (consentParam) options.consent = consentParam;
  if (modeParam) options.mode = modeParam;
  if (storageParam) options.storage = storageParam;
  let step = 'load ./cartsense/index.js (is the package built? the build copies it into www/cartsense/)';
  try {
    const { init } = await import('./cartsense/index.js');
    step = 'init()';
    const tracker = await init(options);
    window.cartsense = tracker; // handy for the console and for end-to-end tests
    document.documentElement.dataset.tracker = 'ready';
    applyConsent();
    loadRecommendations(tracker);
  } catch (err) {
    window.cartsenseError = err;
    document.documentElement.dataset.tracker = 'off';
    console.warn(`[cartsense demo] analytics are off, the shop works without them: could not ${step}:`, String(err?.message || err));
  }
}

// The model is fetched after init(): recommendations never delay the first event. Hook for
// tests: <html data-recs="ready|off">. Without a model the shop works as before; the shelves
// say there is nothing to suggest.
async function loadRecommendations(tracker) {
  try {
    if (recsParam === 'off') throw new Error('turned off by ?recs=off');
    if (typeof tracker.loadRecommendations != 'function') throw new Error('this cartsense build has no loadRecommendations()');
    await tracker.loadRecommendations('/recs.bin', { catalogue: recsCatalogue() });
    document.documentElement.dataset.recs = 'ready';
  } catch (err) {
    window.cartsenseRecsError = err;
    document.documentElement.dataset.recs = 'off';
    for (const shelf of document.querySelectorAll('[data-cs-recs]')) shelf.setAttribute('data-cs-empty', '');
    // info, not a warning: a shop without a model is a supported state, not a fault
    console.info('[cartsense demo] no recommendations:', String(err?.message || err));
  }
}

// ---------- boot ----------

const PAGES = { home: renderHome, category: renderCategory, product: renderProduct, cart: renderCart, checkout: renderCheckout, order: renderOrder };

async function main() {
  try {
    const res = await fetch('catalog.json');
    if (!res.ok) throw new Error(`catalog.json: HTTP ${res.status}`);
    setCatalog(await res.json());
  } catch (err) {
    console.error('[cartsense demo] could not load the catalogue', err);
    renderHeader(null);
    renderFooter();
    setMain(h('section', { class: 'empty-state' }, h('h1', {}, 'The shop is closed'), h('p', {}, 'The catalogue could not be loaded. Please try again later.')));
    document.documentElement.dataset.ready = 'true';
    return;
  }
  const current = pageName === 'category' ? params.get('c') : pageName === 'product' ? byId.get(params.get('id') || '')?.category : null;
  renderHeader(current);
  renderFooter();
  (PAGES[pageName] || renderHome)();
  renderConsentBanner();
  document.documentElement.dataset.ready = 'true'; // the DOM (and every data-cs container) is in place
  window.addEventListener('storage', (e) => { if (e.key === CART_KEY) updateBadge(); });
  await startTracker();
}

main();
