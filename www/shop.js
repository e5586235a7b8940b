// cartsense demo storefront: shared helpers (DOM, money, localStorage cart, product markup).
// The data-cs-* attributes written here are cartsense's autocapture contract; see app.js.

export const CART_KEY = 'demo.cart';
export const CART_ID_KEY = 'demo.cartId';
export const ORDERS_KEY = 'demo.orders';
export const MAX_QTY = 99;
export const FREE_SHIPPING_CENTS = 10000; // free shipping from $100
export const SHIPPING_CENTS = 799;
export const TAX_RATE = 0.08;
// Distinct hues for the placeholder images, one per category (by catalogue order).
export const HUES = [226, 262, 338, 14, 196, 158, 280, 30, 182, 120, 50, 305];

export let catalog = { categories: [], products: [] };
export let byId = new Map();
export function setCatalog(data) {
  catalog = data;
  byId = new Map(data.products.map((p) => [p.id, p]));
}

// ---------- helpers ----------

/** Creates an element: h('a', { href, class, 'data-x': 1 }, child, 'text', [more]). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function icon(path, cls = 'icon') {
  const span = h('span', { class: cls, 'aria-hidden': 'true' });
  span.innerHTML = `<svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${path}</svg>`;
  return span;
}
export const CART_ICON = '<path d="M3 4h2.5l2.2 10.2a1.5 1.5 0 0 0 1.5 1.2h7.9a1.5 1.5 0 0 0 1.5-1.1L20.5 8H6.4"/><circle cx="9.5" cy="19.5" r="1.3"/><circle cx="17" cy="19.5" r="1.3"/>';
export const CHECK_ICON = '<path d="M20 6 9 17l-5-5"/>';

export function readJSON(key, fallback) {
  try {
    const raw = localStorage.getItem(key);
    return raw == null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}
export function writeJSON(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch (err) {
    console.warn('[cartsense demo] could not save', key, err);
  }
}

export const cents = (price) => Math.round(Number(price) * 100);
export const plain = (c) => (c / 100).toFixed(2); // for data-cs-* numbers: "179.99"
export const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
export const money = (c) => usd.format(c / 100);
export const clampQty = (value) => {
  const n = Math.floor(Number(value));
  return Number.isFinite(n) && n >= 1 ? Math.min(n, MAX_QTY) : 1;
};
export const productHref = (id) => `product.html?id=${encodeURIComponent(id)}`;
export const categoryHref = (code) => `category.html?c=${encodeURIComponent(code)}`;
export const absolute = (href) => new URL(href, location.href).href;
export const categoryOf = (code) => catalog.categories.find((c) => c.code === code);
export const categoryName = (code) => categoryOf(code)?.name || code;
export function hue(code) {
  const i = catalog.categories.findIndex((c) => c.code === code);
  if (i >= 0) return HUES[i % HUES.length];
  let x = 0;
  for (const ch of String(code)) x = (x * 31 + ch.charCodeAt(0)) % 360;
  return x;
}

// ---------- cart ----------

/** The cart as [{id, quantity}], keeping only lines whose product is in the catalogue. */
export function getCart() {
  const raw = readJSON(CART_KEY, []);
  if (!Array.isArray(raw)) return [];
  const lines = [];
  for (const line of raw) {
    const id = line && String(line.id);
    if (!byId.has(id) || lines.some((l) => l.id === id)) continue;
    lines.push({ id, quantity: clampQty(line.quantity) });
  }
  return lines;
}
export function setCart(lines) {
  writeJSON(CART_KEY, lines.map(({ id, quantity }) => ({ id, quantity })));
  updateBadge(lines); // the lines just written: no need to read and parse them back
}
export function addToCart(id, quantity) {
  const lines = getCart();
  const line = lines.find((l) => l.id === id);
  if (line) line.quantity = Math.min(MAX_QTY, line.quantity + quantity);
  else lines.push({ id, quantity });
  setCart(lines);
}
/** One cart id per browser, kept in localStorage. */
export function cartId() {
  let id = null;
  try { id = localStorage.getItem(CART_ID_KEY); } catch { /* storage unavailable */ }
  if (!id) {
    const rand = globalThis.crypto?.randomUUID ? crypto.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    id = `cart-${rand}`;
    try { localStorage.setItem(CART_ID_KEY, id); } catch { /* keep it for this page */ }
  }
  return id;
}
/** Cart lines with their products and line totals in cents. */
export function cartDetails(lines = getCart()) {
  return lines.map((l) => {
    const p = byId.get(l.id);
    return { ...p, quantity: l.quantity, lineCents: cents(p.price) * l.quantity };
  });
}
export function totals(items) {
  const subtotal = items.reduce((s, it) => s + cents(it.price) * it.quantity, 0);
  const shipping = subtotal === 0 || subtotal >= FREE_SHIPPING_CENTS ? 0 : SHIPPING_CENTS;
  const tax = Math.round(subtotal * TAX_RATE);
  const count = items.reduce((s, it) => s + it.quantity, 0);
  return { subtotal, shipping, tax, total: subtotal + shipping + tax, count };
}
export function updateBadge(lines = getCart()) {
  const count = lines.reduce((s, l) => s + l.quantity, 0);
  const badge = document.getElementById('cart-count');
  if (badge) {
    badge.textContent = String(count);
    badge.classList.toggle('is-empty', count === 0);
    badge.closest('a')?.setAttribute('aria-label', `Cart, ${count} ${count === 1 ? 'item' : 'items'}`);
  }
}

// ---------- shared pieces ----------

/** The data-cs-* product attributes of the autocapture contract. */
export function productData(p, extra = {}) {
  return {
    'data-cs-product': p.id,
    'data-cs-name': p.name,
    'data-cs-price': plain(cents(p.price)),
    'data-cs-brand': p.brand,
    'data-cs-category': p.category,
    'data-cs-url': absolute(productHref(p.id)),
    ...extra,
  };
}

export function placeholder(p, size = '') {
  return h('div', { class: `ph ${size}`.trim(), style: `--h:${hue(p.category)}`, 'aria-hidden': 'true' },
    h('span', { class: 'ph-initial' }, (p.brand || p.name || '?').trim().charAt(0).toUpperCase()),
    h('span', { class: 'ph-tag' }, categoryName(p.category)));
}

export function productCard(p, position) {
  return h('li', {},
    h('a', { class: 'card', href: productHref(p.id), ...productData(p, { 'data-cs-position': position }) },
      placeholder(p),
      h('span', { class: 'card-body' },
        h('span', { class: 'card-brand' }, p.brand),
        h('span', { class: 'card-name' }, p.name),
        h('span', { class: 'card-price' }, money(cents(p.price))))));
}

/** A product list: <ul data-cs-list> with one card link per product. */
export function productList(listId, category, products, cls = '') {
  return h('ul', { class: `grid ${cls}`.trim(), 'data-cs-list': listId, 'data-cs-category': category, role: 'list' },
    products.map((p, i) => productCard(p, i + 1)));
}

export function breadcrumbs(...items) {
  return h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('ol', {}, items.map(([label, href], i) =>
      h('li', {}, href && i < items.length - 1 ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label)))));
}

export function summaryRows(t, { estimate = false } = {}) {
  const row = (label, value, cls = '') => h('div', { class: `sum-row ${cls}`.trim() }, h('dt', {}, label), h('dd', {}, value));
  return h('dl', { class: 'sum' },
    row(`Subtotal (${t.count} ${t.count === 1 ? 'item' : 'items'})`, money(t.subtotal)),
    row('Shipping', t.shipping === 0 ? 'Free' : money(t.shipping)),
    row(estimate ? 'Estimated tax' : 'Tax (8%)', money(t.tax)),
    row('Total', money(t.total), 'sum-total'));
}

/** A line of the cart, checkout or order: a data-cs-product element with quantity and price. */
export function orderLine(it, { editable = false } = {}) {
  const nameId = `line-name-${it.id}`;
  const line = h('li', { class: 'line', ...productData(it, { 'data-cs-quantity': it.quantity }) },
    placeholder(it, 'ph-sm'),
    h('div', { class: 'line-info' },
      h('a', { class: 'line-name', id: nameId, href: productHref(it.id) }, it.name),
      h('span', { class: 'line-meta' }, editable ? `${it.brand} · ${money(cents(it.price))} each` : `Qty ${it.quantity} × ${money(cents(it.price))}`)),
    editable && h('div', { class: 'line-qty' },
      h('label', { for: `qty-${it.id}`, class: 'visually-hidden' }, `Quantity for ${it.name}`),
      h('input', { id: `qty-${it.id}`, class: 'qty-input', type: 'number', inputmode: 'numeric', min: 1, max: MAX_QTY, step: 1, value: it.quantity })),
    h('span', { class: 'line-total' }, money(cents(it.price) * it.quantity)));
  if (editable) {
    line.append(h('button', { type: 'button', class: 'btn-link', 'data-cs-remove': true, 'aria-describedby': nameId }, 'Remove'));
  }
  return line;
}

export function setMain(...children) {
  const main = document.getElementById('main');
  main.replaceChildren(...children.flat());
  return main;
}

export function notFound(title, text) {
  document.title = `${title} · cartsense demo`;
  setMain(h('section', { class: 'empty-state' },
    h('h1', {}, title), h('p', {}, text),
    h('a', { class: 'btn', href: 'index.html' }, 'Back to the shop')));
}

/** Completes the header, which is static in each page's HTML (so that nothing moves when the
 * catalogue arrives): the category links, into the row CSS reserves for them, and the cart count. */
export function renderHeader(current) {
  document.querySelector('#site-header .cat-nav ul').replaceChildren(...catalog.categories.map((c) =>
    h('li', {}, h('a', { href: categoryHref(c.code), 'aria-current': c.code === current ? 'page' : null }, c.name))));
  updateBadge();
}

/** The footer, drawn with the page's content: an empty footer takes no space (style.css), so
 * that it does not sit in the first screen while the page loads and then move down. */
export function renderFooter() {
  document.getElementById('site-footer').replaceChildren(h('div', { class: 'container footer-inner' },
    h('p', {}, h('strong', {}, 'cartsense demo'), ' — a static demo shop instrumented with cartsense autocapture. Nothing is sold or charged.'),
    h('p', { class: 'muted' }, 'Catalogue: real products, brands and prices from the REES46 eCommerce behavior dataset (October 2019), courtesy of REES46 Marketing Platform.')));
}

export function status(text, ...extra) {
  let region = document.getElementById('status');
  if (!region) {
    region = h('div', { id: 'status', class: 'toast', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  region.replaceChildren(icon(CHECK_ICON), h('span', {}, text, ...extra));
  region.classList.add('is-shown');
  clearTimeout(status.timer);
  status.timer = setTimeout(() => region.classList.remove('is-shown'), 4000);
}
