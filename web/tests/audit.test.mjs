// graphql-http's audit of the GraphQL-over-HTTP specification against the real server: every MUST and SHOULD
// holds (the audit reports a failed SHOULD as a warning, and a warning fails this test too).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { serverAudits } from 'graphql-http';
import { startServer } from './harness.mjs';

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

test('GraphQL over HTTP: no error and no warning in graphql-http’s audit', async () => {
  const audits = serverAudits({ url: `${server.base}/graphql` });
  const problems = [];
  for (const audit of audits) {
    const result = await audit.fn();
    if (result.status !== 'ok') problems.push(`${result.status} ${audit.id} ${audit.name}: ${result.reason}`);
  }
  assert.ok(audits.length >= 50, `only ${audits.length} audits ran`);
  assert.deepEqual(problems, []);
});
