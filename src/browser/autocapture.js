// cartsense autocapture: what the documented data-cs-* markup means, read from the DOM.
//
// Loaded by the shell (index.js) only when init({ autocapture: true }), after the page view is
// already queued: a page that tracks by hand never downloads it, and it never delays the first
// event. It turns markup into spec events and hands them to `capture(event, properties)`;
// validation (and its error messages) is the engine's, as for any track() call.

const ATTR = 'data-cs-';

// Attribute (without data-cs-) → property; `#` marks a number, kept as text when it is not
// one, so validation names the field.
const PROPERTY = {
  product: 'product_id',
  list: 'list_id',
  cart: 'cart_id',
  checkout: 'checkout_id',
  order: 'order_id',
  image: 'image_url',
};
for (const name of ['name', 'brand', 'category', 'sku', 'variant', 'coupon', 'currency', 'affiliation', 'url']) {
  PROPERTY[name] = name;
}
for (const name of ['price', 'quantity', 'position', 'revenue', 'total', 'subtotal', 'shipping', 'tax', 'discount', 'value']) {
  PROPERTY[name] = '#';
}

// Load-time containers: [attribute, event].
const CONTAINERS = [
  ['list', 'Product List Viewed'],
  ['cart', 'Cart Viewed'],
  ['checkout', 'Checkout Started'],
  ['order', 'Order Completed'],
];

const number = (raw) => (raw.trim() !== '' && isFinite(raw) ? Number(raw) : raw.trim());

// The properties an element's data-cs-* attributes describe. data-cs-prop-<name> carries a
// shop's own field as a string; markers such as data-cs-view or data-cs-add carry nothing.
const described = (element) => {
  const properties = {};
  for (const { name, value } of element.attributes) {
    if (!name.startsWith(ATTR)) continue;
    const short = name.slice(ATTR.length);
    const key = PROPERTY[short];
    if (short.startsWith('prop-')) properties[short.slice(5)] = value;
    else if (key == '#') properties[short] = number(value);
    else if (key) properties[key] = value.trim();
  }
  return properties;
};

// A recommendations widget ([data-cs-recs], recs-widget.js) reports its own list views and
// clicks; its cards (and the container, which names the product it is about) are never counted
// here too, wherever the shop places the widget.
const RECS = '[data-cs-recs]';
const productsIn = (root) => [...root.querySelectorAll('[data-cs-product]')].filter((product) => !product.closest(RECS));

/** Product views and every list, cart, checkout and order container on the page. */
export function scan(capture) {
  for (const element of document.querySelectorAll('[data-cs-product][data-cs-view]')) {
    capture('Product Viewed', described(element));
  }
  for (const [container, event] of CONTAINERS) {
    for (const element of document.querySelectorAll(`[${ATTR}${container}]`)) {
      const products = productsIn(element).map(described);
      // Lists number their products from 1 unless the markup says.
      if (container == 'list') products.forEach((p, i) => (p.position ??= i + 1));
      capture(event, { ...described(element), products });
    }
  }
}

/** The delegated click listener: add and remove buttons, and clicks on products in lists. */
export function click(event, capture, warn) {
  const target = event.target instanceof Element ? event.target : event.target?.parentElement;
  const button = target?.closest('[data-cs-add],[data-cs-remove]');
  const product = button ? button.closest('[data-cs-product]') : target?.closest('[data-cs-list] [data-cs-product]');
  if (!product || (!button && product.closest(RECS))) return;
  const properties = described(product);
  const list = product.closest('[data-cs-list]');
  if (list) {
    properties.list_id = list.getAttribute(ATTR + 'list');
    properties.position ??= productsIn(list).indexOf(product) + 1;
  }
  const adding = button?.hasAttribute(ATTR + 'add');
  // Quantity: the button's own, else an input it points at, else the product's, else 1.
  const source = button?.getAttribute(ATTR + 'quantity-from');
  let quantity = button?.getAttribute(ATTR + 'quantity');
  try {
    quantity ??= source && document.querySelector(source)?.value;
  } catch {
    warn(`autocapture: data-cs-quantity-from="${source}" is not a valid selector`);
  }
  if (quantity) properties.quantity = number(quantity);
  if (adding) properties.quantity ??= 1;
  capture(button ? (adding ? 'Product Added' : 'Product Removed') : 'Product Clicked', properties);
}
