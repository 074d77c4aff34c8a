// The dashboard in headless Chromium with every host but boletin blocked: it shows the seed's 1,195 assisted
// returns and links to the bulletin that reported them, switches to Spanish, fits a phone's width, passes
// axe-core, stays within its JavaScript budget, and asks no other host for anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isolatedPage, screenshot, seriousViolations, serverAndBrowser } from './harness.mjs';

/** The most JavaScript the dashboard may load, uncompressed, map shapes included (README states it). */
const JAVASCRIPT_BUDGET_BYTES = 100 * 1024;

const shared = serverAndBrowser();

test('the dashboard shows the seed’s returns and links each figure to its bulletin', async () => {
  const { page, offsite, problems } = await isolatedPage(shared.browser, shared.server.base, { viewport: { width: 1280, height: 900 } });
  const scripts = [];
  page.on('response', async (response) => {
    if (response.request().resourceType() === 'script') scripts.push((await response.body()).length);
  });
  const response = await page.goto(`${shared.server.base}/dashboard#lang=en&indicator=returns_assisted`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /default-src 'self'/);

  const total = page.getByTestId('total');
  await total.waitFor({ timeout: 30_000 });
  assert.equal(await total.innerText(), '1,195');
  assert.equal(await page.getByLabel('Indicator').inputValue(), 'returns_assisted');
  // The map shades both countries of the joint figure, and the table lists them.
  assert.equal(await page.locator('.map path:not(.empty)').count(), 2);
  const byCountry = page.getByRole('table', { name: 'By country' });
  await byCountry.getByRole('rowheader', { name: 'Guatemala' }).waitFor();
  await byCountry.getByRole('rowheader', { name: 'Mexico' }).waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await screenshot(page, 'dashboard');

  const source = page.getByRole('table', { name: 'Figures and their sources' }).getByRole('link');
  assert.equal(await source.count(), 1);
  const title = await source.innerText();
  assert.match(title, /returned voluntarily/i);
  await source.click();
  await page.getByRole('heading', { level: 2, name: title }).waitFor();
  await page.getByRole('table', { name: 'Figures reported in this bulletin' }).getByText('1,195 people').waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await screenshot(page, 'dashboard-bulletin');

  const used = scripts.reduce((sum, n) => sum + n, 0);
  assert.ok(used > 0 && used <= JAVASCRIPT_BUDGET_BYTES, `the dashboard loaded ${used} bytes of JavaScript`);
  assert.deepEqual(offsite, [], 'requests to other hosts');
  assert.deepEqual(problems, [], 'CSP violations or page errors');
});

test('the dashboard speaks Spanish, changes indicator and fits a phone', async () => {
  const { page, offsite, problems } = await isolatedPage(shared.browser, shared.server.base, {
    viewport: { width: 390, height: 844 },
    locale: 'es-MX',
    isMobile: true,
    hasTouch: true,
  });
  await page.goto(`${shared.server.base}/dashboard`);
  await page.getByRole('heading', { level: 1, name: 'Indicadores' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'es');
  await page.getByTestId('total').waitFor();

  await page.getByLabel('Indicador').selectOption('job_fair_hires');
  await page.waitForFunction(() => window.location.hash.includes('indicator=job_fair_hires'));
  await page.getByRole('table', { name: 'Cifras y sus fuentes' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  assert.deepEqual(await seriousViolations(page), []);
  await screenshot(page, 'dashboard-phone');

  await page.getByRole('link', { name: 'English' }).click();
  await page.getByRole('heading', { level: 1, name: 'Indicators' }).waitFor();
  assert.deepEqual(offsite, [], 'requests to other hosts');
  assert.deepEqual(problems, [], 'CSP violations or page errors');
});
