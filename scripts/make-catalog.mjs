#!/usr/bin/env node
// Builds the demo storefront's catalogue (www/catalog.json) from real REES46 event rows.
//
// Usage: node scripts/make-catalog.mjs [path/to/rees46.csv]
//   default input: ../shared/data/rees46_multicat_2019-Oct_head.csv (relative to the repo root)
//
// Columns: event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session
// Rules: rows with an empty category_code or brand (or a non-positive price) are skipped; the
// CATEGORY_COUNT categories with the most product views are kept (ties: code A→Z); in each, the
// PER_CATEGORY most viewed products (ties: more events, then smaller numeric id); each product
// takes its most recent price (latest event_time, later row on ties). No clock, no randomness:
// the same input always gives the same file. Node 20, no dependencies.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const CATEGORY_COUNT = 10;
const PER_CATEGORY = 8;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const input = process.argv[2]
  ? resolve(process.cwd(), process.argv[2])
  : resolve(repoRoot, '../shared/data/rees46_multicat_2019-Oct_head.csv');
const output = resolve(repoRoot, 'www/catalog.json');

// Display names for leaf categories: [singular for product names, plural for headings].
// Anything not listed falls back to the title-cased leaf.
const LEAF_LABELS = {
  smartphone: ['Smartphone', 'Smartphones'],
  notebook: ['Notebook', 'Notebooks'],
  clocks: ['Watch', 'Watches'],
  headphone: ['Headphones', 'Headphones'],
  refrigerators: ['Refrigerator', 'Refrigerators'],
  vacuum: ['Vacuum Cleaner', 'Vacuum Cleaners'],
  tv: ['TV', 'TVs'],
  air_heater: ['Air Heater', 'Air Heaters'],
  washer: ['Washer', 'Washers'],
  shoes: ['Shoes', 'Shoes'],
  keds: ['Sneakers', 'Sneakers'],
  telephone: ['Telephone', 'Telephones'],
  desktop: ['Desktop PC', 'Desktop PCs'],
  tablet: ['Tablet', 'Tablets'],
};

/** Splits one CSV line (RFC 4180 quoting, although this file does not quote). */
function splitCsvLine(line) {
  const out = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(field); field = ''; }
    else field += ch;
  }
  out.push(field);
  return out;
}

const titleWord = (w) => (w ? w[0].toUpperCase() + w.slice(1) : w);
const titleCase = (s) => s.split(/([ \-_.]+)/).map((part) => (/^[ \-_.]+$/.test(part) ? part.replace(/_/g, ' ') : titleWord(part))).join('');

/** "samsung" → "Samsung", "lg" → "LG", "hotpoint-ariston" → "Hotpoint-Ariston". */
function brandName(raw) {
  const b = raw.trim().toLowerCase();
  if (/^[a-z]{1,3}$/.test(b)) return b.toUpperCase();
  return titleCase(b);
}

function leafLabels(code) {
  const leaf = code.split('.').pop();
  if (LEAF_LABELS[leaf]) return LEAF_LABELS[leaf];
  const words = titleCase(leaf.replace(/_/g, ' '));
  const singular = /[^s]s$/.test(words) ? words.slice(0, -1) : words;
  const plural = /s$/.test(words) ? words : `${words}s`;
  return [singular, plural];
}

function main() {
  let text;
  try {
    text = readFileSync(input, 'utf8');
  } catch (err) {
    console.error(`make-catalog: cannot read ${input}: ${err.message}`);
    process.exit(1);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = splitCsvLine(lines[0]);
  const col = Object.fromEntries(header.map((name, i) => [name.trim(), i]));
  for (const need of ['event_time', 'event_type', 'product_id', 'category_code', 'brand', 'price']) {
    if (!(need in col)) {
      console.error(`make-catalog: column ${need} missing from ${input}`);
      process.exit(1);
    }
  }

  /** product_id → { id, brand, category, views, events, price, priceTime } */
  const products = new Map();
  let used = 0;
  for (let i = 1; i < lines.length; i++) {
    const f = splitCsvLine(lines[i]);
    const category = (f[col.category_code] || '').trim();
    const brand = (f[col.brand] || '').trim();
    const id = (f[col.product_id] || '').trim();
    const price = Number(f[col.price]);
    const time = (f[col.event_time] || '').trim();
    if (!category || !brand || !id || !Number.isFinite(price) || price <= 0) continue;
    used++;
    let p = products.get(id);
    if (!p) {
      p = { id, brand, category, views: 0, events: 0, price, priceTime: time };
      products.set(id, p);
    }
    p.events++;
    if (f[col.event_type] === 'view') p.views++;
    if (time >= p.priceTime) { // ISO-like timestamps compare as strings; later rows win ties
      p.price = price;
      p.priceTime = time;
    }
  }

  const byCategory = new Map();
  for (const p of products.values()) {
    if (!byCategory.has(p.category)) byCategory.set(p.category, []);
    byCategory.get(p.category).push(p);
  }
  const views = (list) => list.reduce((n, p) => n + p.views, 0);
  const categories = [...byCategory.entries()]
    .filter(([, list]) => list.length >= PER_CATEGORY)
    .sort((a, b) => views(b[1]) - views(a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, CATEGORY_COUNT);

  const outProducts = [];
  const outCategories = [];
  for (const [code, list] of categories) {
    const [singular, plural] = leafLabels(code);
    const chosen = [...list]
      .sort((a, b) => b.views - a.views || b.events - a.events || Number(a.id) - Number(b.id) || (a.id < b.id ? -1 : 1))
      .slice(0, PER_CATEGORY);
    outCategories.push({ code, name: plural, department: titleCase(code.split('.')[0]), count: chosen.length });
    for (const p of chosen) {
      const brand = brandName(p.brand);
      outProducts.push({
        id: p.id,
        name: `${brand} ${singular} ${p.id}`,
        brand,
        category: code,
        price: Math.round(p.price * 100) / 100,
      });
    }
  }

  const catalog = {
    source: 'REES46 eCommerce behavior data from multi category store, 2019-10 (head); attribution: REES46 Marketing Platform',
    currency: 'USD',
    categories: outCategories,
    products: outProducts,
  };
  // One product per line: small, readable and diff-friendly.
  const json = `{\n  "source": ${JSON.stringify(catalog.source)},\n  "currency": "USD",\n  "categories": [\n${
    outCategories.map((c) => `    ${JSON.stringify(c)}`).join(',\n')
  }\n  ],\n  "products": [\n${outProducts.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]\n}\n`;
  writeFileSync(output, json);
  console.error(
    `make-catalog: ${used} usable rows, ${products.size} products → ${outProducts.length} products in ${outCategories.length} categories → ${output} (${json.length} bytes)`,
  );
}

main();
