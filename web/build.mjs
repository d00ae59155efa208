// SPDX-License-Identifier: MIT
// build.mjs OUTDIR [DEPFILE] - bundles the agent workspace and the chat widget with esbuild into
// OUTDIR (index.html, app.js, app.css; widget.js, the loader a website embeds, and frame.html,
// frame.js, frame.css, the chat window it opens in an iframe; shop.html and shop.css, the demo
// shop); Meson embeds them in the binary.
// DEPFILE, when given, lists every source read, so that Ninja rebuilds when one changes.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [outArg, depfile] = process.argv.slice(2);
const outdir = outArg && resolve(outArg);
if (!outArg) {
  console.error('usage: node build.mjs OUTDIR [DEPFILE]');
  process.exit(2);
}
if (!existsSync(join(here, 'node_modules'))) {
  console.error('web/node_modules is missing: run "npm ci" in web/ (make does it)');
  process.exit(1);
}
mkdirSync(outdir, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  metafile: true,
  legalComments: 'none',
  target: ['chrome100', 'firefox100', 'safari15'],
  logLevel: 'warning',
  absWorkingDir: here,
};
const builds = [
  { ...common, entryPoints: ['src/app/main.jsx'], outfile: join(outdir, 'app.js'), format: 'iife',
    jsx: 'automatic', jsxImportSource: 'preact' },
  { ...common, entryPoints: ['src/app/app.css'], outfile: join(outdir, 'app.css') },
  { ...common, entryPoints: ['src/widget/widget.js'], outfile: join(outdir, 'widget.js'),
    format: 'iife' },
  { ...common, entryPoints: ['src/widget/frame.js'], outfile: join(outdir, 'frame.js'),
    format: 'iife' },
  { ...common, entryPoints: ['src/widget/frame.css'], outfile: join(outdir, 'frame.css') },
  { ...common, entryPoints: ['src/shop/shop.css'], outfile: join(outdir, 'shop.css') },
];
const inputs = new Set();
for (const b of builds) {
  const r = await esbuild.build(b);
  for (const f of Object.keys(r.metafile.inputs)) inputs.add(resolve(here, f));
}
for (const page of ['src/app/index.html', 'src/shop/shop.html', 'src/widget/frame.html']) {
  copyFileSync(join(here, page), join(outdir, page.split('/').pop()));
  inputs.add(join(here, page));
}
if (depfile) {
  const deps = [...inputs, join(here, 'build.mjs'), join(here, 'package-lock.json')];
  writeFileSync(depfile, `${join(outArg, 'index.html')}: ${deps.map((d) => d.replace(/ /g, '\\ ')).join(' ')}\n`);
}
