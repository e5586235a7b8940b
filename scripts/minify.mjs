// Minifies the package's JavaScript in place (the wrapper and wasm-bindgen's glue): what a
// page downloads counts toward the size budget, and a plain <script type="module"> gets no
// bundler to do this for it. Types and docs live in index.d.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { minify } from 'terser';

for (const file of process.argv.slice(2)) {
  const source = readFileSync(file, 'utf8');
  const result = await minify(source, {
    module: true,
    ecma: 2020,
    compress: { passes: 3, unsafe_arrows: true },
    mangle: true,
    format: { comments: false },
  });
  writeFileSync(file, result.code);
}
