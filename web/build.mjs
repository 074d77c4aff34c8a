// Builds boletin's two pages into one directory of files the server embeds (see crates/server/build.rs):
//
//   node build.mjs [--outdir DIR]     (default: dist/)
//
// Every script and style is bundled from the npm packages pinned by package-lock.json, minified, and named by a
// hash of its content, so the server can let browsers keep it for a year. `manifest.tsv` lists each file with
// the URL path and media type it is served under. Nothing here is fetched at run time: the country shapes of
// the dashboard's map are cut from `world-atlas` now and shipped as SVG paths.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { regionMap } from './src/dashboard/map-data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outdir');
const outdir = outIndex >= 0 ? args[outIndex + 1] : join(here, 'dist');

/** The dashboard imports `virtual:region-map`: the region's countries as projected SVG paths. */
const regionMapPlugin = {
  name: 'region-map',
  setup(build) {
    build.onResolve({ filter: /^virtual:region-map$/ }, (args) => ({ path: args.path, namespace: 'region-map' }));
    build.onLoad({ filter: /.*/, namespace: 'region-map' }, () => ({
      contents: `export default ${JSON.stringify(regionMap())};`,
      loader: 'js',
    }));
  },
};

const pages = [
  { name: 'playground', entry: 'src/playground/main.jsx', html: 'src/playground/index.html' },
  { name: 'dashboard', entry: 'src/dashboard/main.js', html: 'src/dashboard/index.html' },
];

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const manifest = { assets: [], pages: {} };

const types = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

for (const page of pages) {
  const result = await esbuild.build({
    entryPoints: [join(here, page.entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    loader: { '.woff2': 'dataurl', '.svg': 'dataurl' },
    plugins: [regionMapPlugin],
    write: false,
    outdir: '/',
    entryNames: page.name,
    logLevel: 'warning',
  });
  const links = {};
  for (const file of result.outputFiles) {
    const ext = file.path.slice(file.path.lastIndexOf('.'));
    const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 12);
    const name = `${basename(file.path, ext)}.${hash}${ext}`;
    writeFileSync(join(outdir, name), file.contents);
    // Compressed once here, at the highest settings, so the server only picks the file a client accepts.
    const brotli = brotliCompressSync(file.contents, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: file.contents.length },
    });
    writeFileSync(join(outdir, `${name}.br`), brotli);
    writeFileSync(join(outdir, `${name}.gz`), gzipSync(file.contents, { level: 9 }));
    manifest.assets.push({ path: `/assets/${name}`, file: name, type: types[ext], br: `${name}.br`, gzip: `${name}.gz` });
    links[ext] = `/assets/${name}`;
  }
  const html = readFileSync(join(here, page.html), 'utf8')
    .replace('%SCRIPT%', links['.js'])
    .replace('%STYLE%', links['.css'] ?? '');
  writeFileSync(join(outdir, `${page.name}.html`), html);
  manifest.pages[page.name] = `${page.name}.html`;
}

// One line a file, tab-separated, for crates/server/build.rs to read without a JSON parser.
const lines = [
  ...Object.entries(manifest.pages).map(([name, file]) => ['page', name, file]),
  ...manifest.assets.map((a) => ['asset', a.path, a.type, a.file, a.gzip, a.br]),
];
writeFileSync(join(outdir, 'manifest.tsv'), lines.map((line) => `${line.join('\t')}\n`).join(''));
const size = (file) => readFileSync(join(outdir, file)).length;
const sizes = manifest.assets.map((a) => `${a.file} ${size(a.file)} B (${size(a.br)} B brotli)`);
console.log(`built ${Object.keys(manifest.pages).join(' and ')} into ${outdir}: ${sizes.join(', ')}`);
