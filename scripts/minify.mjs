// Minifies the package's JavaScript in place (the wrapper and wasm-bindgen's glue): what a
// page downloads counts toward the size budget, and a plain <script type="module"> gets no
// bundler to do this for it. Types and docs live in index.d.ts.
//
// wasm-bindgen's glue (pkg/cartsense_*.js) is internal: the package exports neither file; the
// shell imports the async loader and the handle class, and tests/schema the synchronous
// loader (initSync, in Node). Before minifying, the glue loses what none of them use, which
// terser cannot know. Each edit must match exactly once, so a wasm-bindgen whose output
// changed fails the build here instead of shipping unedited glue.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { minify } from 'terser';

const glueEdits = [
  // `using` support on the handles: the shell holds them privately and calls free()
  [/\nif \(Symbol\.dispose\) (\w+)\.prototype\[Symbol\.dispose\] = \1\.prototype\.free;\n/, '\n'],
];

for (const file of process.argv.slice(2)) {
  let source = readFileSync(file, 'utf8');
  if (/^cartsense_\w+\.js$/.test(basename(file))) {
    for (const [pattern, replacement] of glueEdits) {
      const matches = source.match(new RegExp(pattern.source, 'g')) ?? [];
      if (matches.length !== 1) {
        throw new Error(`minify: ${file}: expected one match of ${pattern} in wasm-bindgen's glue, found ${matches.length}`);
      }
      source = source.replace(pattern, replacement);
    }
  }
  const result = await minify(source, {
    module: true,
    ecma: 2020,
    compress: { passes: 3, unsafe_arrows: true },
    mangle: true,
    format: { comments: false },
  });
  writeFileSync(file, result.code);
}
