// The playground in headless Chromium with every host but boletin blocked: it renders, runs the feed example
// and shows a title, opens the docs explorer, passes axe-core, and asks no other host for anything.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { api, isolatedPage, screenshot, seriousViolations, serverAndBrowser } from './harness.mjs';

const shared = serverAndBrowser();

test('the playground runs the feed example offline and shows a title', async () => {
  const { page, offsite, problems } = await isolatedPage(shared.browser, shared.server.base);
  const response = await page.goto(`${shared.server.base}/graphql`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /default-src 'self'/);

  const run = page.getByRole('button', { name: /execute query/i });
  await run.waitFor({ timeout: 30_000 });
  await run.click();

  const newest = (await api(shared.server.base, '{ bulletins(first: 1, lang: ES) { nodes { title } } }')).bulletins.nodes[0];
  const result = page.locator('.result-window');
  await result.getByText(newest.title, { exact: false }).first().waitFor({ timeout: 30_000 });
  assert.match(await result.innerText(), /"totalCount"/);

  await page.getByRole('button', { name: /documentation explorer/i }).click();
  await page.getByText('Root Types').waitFor();
  await screenshot(page, 'playground');

  assert.deepEqual(await seriousViolations(page), []);
  assert.deepEqual(offsite, [], 'requests to other hosts');
  assert.deepEqual(problems, [], 'CSP violations or page errors');
});
