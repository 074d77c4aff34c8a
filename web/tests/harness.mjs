// What every browser test needs: a boletin server on a fresh seeded SQLite database, Debian's Chromium driven by
// playwright-core, and a browser context in which every host but the boletin server is blocked and recorded.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const binary = process.env.BOLETIN_BIN ?? join(root, 'target/debug/boletin');
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const screenshots = join(root, 'target/browser');

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs `boletin <args>` to completion and returns its standard output. */
async function run(args) {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BOLETIN_LOG: 'warn' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`boletin ${args.join(' ')} exited ${code}:\n${err}`);
  return out;
}

/**
 * Starts `boletin serve` on a new SQLite file (seeded with the built-in catalogue) and waits until ready. With
 * `editor`, an editor's API token is created first and returned as `token`.
 */
export async function startServer({ editor = false } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'boletin-browser-'));
  const database = join(dir, 'boletin.db');
  let token = null;
  if (editor) {
    await run(['--database-url', database, 'seed']);
    const printed = (await run(['--database-url', database, 'token', 'create', '--name', 'tests', '--role', 'editor'])).trim();
    token = printed.split('\n').pop().trim();
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(binary, ['--database-url', database, 'serve', '--addr', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BOLETIN_LOG: 'warn' },
  });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`boletin exited (${child.exitCode}):\n${log}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`boletin was not ready within 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    token,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `query` against the server's API. */
export async function api(base, query, variables = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

export async function launch() {
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/**
 * A page whose requests may reach only `base`: any other host is aborted and listed in `offsite`, and every
 * Content-Security-Policy violation or page error is listed in `problems`.
 */
export async function isolatedPage(browser, base, options = {}) {
  const context = await browser.newContext({ locale: 'en-US', ...options });
  const offsite = [];
  const problems = [];
  const origin = new URL(base).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) return route.continue();
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  await context.routeWebSocket(/.*/, (ws) => {
    if (new URL(ws.url()).host === new URL(base).host) return ws.connectToServer();
    offsite.push(ws.url());
    return ws.close();
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return { context, page, offsite, problems };
}

const axeSource = readFileSync(join(root, 'web/node_modules/axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now, one line each. */
export async function seriousViolations(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}

export async function screenshot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

/** Starts a server and a browser before the calling file's tests and stops them after; both are set on the result. */
export function serverAndBrowser() {
  const shared = { server: null, browser: null };
  before(async () => {
    shared.server = await startServer();
    shared.browser = await launch();
  });
  after(async () => {
    await shared.browser?.close();
    await shared.server?.stop();
  });
  return shared;
}
