// Apollo Client 4 in Node against the real server, as a client developer would use it, with no special case:
// the feed paged with relayStylePagination, persisted queries over GET, partial results with errorPolicy 'all',
// and bulletinPublished heard through graphql-ws while an editor publishes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition, relayStylePagination } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer } from './harness.mjs';

let server;
before(async () => {
  server = await startServer({ editor: true });
});
after(async () => {
  await server?.stop();
});

/** What every request sent: method, URL and the media type asked for. */
const sent = [];
const recordingFetch = (url, options) => {
  sent.push({ method: options?.method ?? 'GET', url: String(url), accept: options?.headers?.accept });
  return fetch(url, options);
};

function client({ persisted = false, token = null } = {}) {
  let http = new HttpLink({
    uri: `${server.base}/graphql`,
    fetch: recordingFetch,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (persisted) {
    const sha256 = (text) => createHash('sha256').update(text).digest('hex');
    http = new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(http);
  }
  return new ApolloClient({
    link: http,
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { bulletins: relayStylePagination(['lang']) } } } }),
  });
}

const FEED = gql`
  query Feed($after: String) {
    bulletins(first: 4, after: $after, lang: ES) {
      edges { cursor node { id slug title publishedOn } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

test('the feed pages with relayStylePagination until the end, newest first, without repeats', async () => {
  const apollo = client();
  const first = await apollo.query({ query: FEED });
  assert.equal(first.error, undefined);
  let page = first.data.bulletins;
  let slugs = page.edges.map((e) => e.node.slug);
  const watched = apollo.watchQuery({ query: FEED });
  while (page.pageInfo.hasNextPage) {
    const more = await watched.fetchMore({ variables: { after: page.pageInfo.endCursor } });
    assert.equal(more.error, undefined);
    page = more.data.bulletins;
  }
  // The cache merged every page into one list, as relayStylePagination does.
  const merged = apollo.readQuery({ query: FEED }).bulletins.edges.map((e) => e.node);
  slugs = merged.map((n) => n.slug);
  assert.equal(slugs.length, 10);
  assert.equal(new Set(slugs).size, 10);
  const dates = merged.map((n) => n.publishedOn);
  assert.deepEqual(dates, [...dates].sort().reverse());
  assert.ok(sent.every((s) => s.accept?.includes('application/graphql-response+json')), JSON.stringify(sent));
});

test('persisted queries travel over GET by hash, and the server learns unknown ones', async () => {
  sent.length = 0;
  const query = gql`
    query Programs {
      programs(lang: EN) { slug name }
    }
  `;
  const first = await client({ persisted: true }).query({ query });
  assert.equal(first.error, undefined);
  assert.ok(first.data.programs.length > 0);
  // First a GET with the hash alone, answered PERSISTED_QUERY_NOT_FOUND, then the text.
  assert.equal(sent[0].method, 'GET');
  assert.match(sent[0].url, /extensions=/);
  assert.doesNotMatch(sent[0].url, /query=/);
  sent.length = 0;
  const again = await client({ persisted: true }).query({ query });
  assert.deepEqual(again.data, first.data);
  assert.equal(sent.length, 1, JSON.stringify(sent));
  assert.equal(sent[0].method, 'GET');
  assert.doesNotMatch(sent[0].url, /query=/);
});

test('one failing panel leaves the others their data with errorPolicy all', async () => {
  const result = await client().query({
    query: gql`
      query Panels {
        a: statistics(indicator: "returns_assisted") { total }
        b: statistics(indicator: "nope") { total }
        c: indicator(code: "job_fair_hires") { code }
      }
    `,
    errorPolicy: 'all',
  });
  assert.equal(result.data.a.total, 1195);
  assert.equal(result.data.b, null);
  assert.equal(result.data.c.code, 'job_fair_hires');
  assert.ok(result.error, 'the error is reported');
  assert.equal(result.error.errors[0].extensions.code, 'NOT_FOUND');
  assert.deepEqual(result.error.errors[0].path, ['b']);
});

test('bulletinPublished arrives through graphql-ws while an editor publishes', async () => {
  const ws = createClient({ url: `${server.base.replace('http', 'ws')}/graphql`, webSocketImpl: WebSocket });
  const link = ApolloLink.split(
    ({ query }) => getMainDefinition(query).operation === 'subscription',
    new GraphQLWsLink(ws),
    new HttpLink({ uri: `${server.base}/graphql`, headers: { authorization: `Bearer ${server.token}` } }),
  );
  const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
  const heard = new Promise((resolve, reject) => {
    const subscription = apollo
      .subscribe({ query: gql`subscription { bulletinPublished(lang: ES) { slug title } }` })
      .subscribe({
        next: (result) => {
          subscription.unsubscribe();
          resolve(result.data.bulletinPublished);
        },
        error: reject,
      });
  });
  // Give the subscription a moment to reach the server, then write and publish as the editor.
  await new Promise((r) => setTimeout(r, 300));
  const created = await apollo.mutate({
    mutation: gql`
      mutation {
        createBulletin(input: {
          publishedOn: "2019-03-15", countries: ["MX"], programs: ["iom-x-roadshow"],
          translations: [{ lang: ES, title: "Abre un albergue en Tapachula", summary: "Un albergue.", body: "Abre." }]
        }) { bulletin { slug version } }
      }
    `,
  });
  assert.equal(created.error, undefined);
  const { slug, version } = created.data.createBulletin.bulletin;
  const published = await apollo.mutate({
    mutation: gql`
      mutation Publish($slug: String!, $version: Int!) {
        publishBulletin(slug: $slug, expectedVersion: $version) { bulletin { status } }
      }
    `,
    variables: { slug, version },
  });
  assert.equal(published.error, undefined);
  const bulletin = await Promise.race([
    heard,
    new Promise((_, reject) => setTimeout(() => reject(new Error('no bulletinPublished within 10 s')), 10_000)),
  ]);
  assert.deepEqual(bulletin, { __typename: 'Bulletin', slug, title: 'Abre un albergue en Tapachula' });
  await ws.dispose();
});
