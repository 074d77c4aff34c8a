// Derives the variables of each benchmark question for the database both servers serve, by asking PostGraphile.
//
// As a command:
//   POSTGRAPHILE_URL=http://127.0.0.1:18600/graphql node variables.mjs
// prints {"<question>": {"boletin": {...}, "postgraphile": {...}}, ...} for the queries in queries/.
//
// Settings (environment):
//   DEEP_DEPTH   how many published bulletins (newest first) come before the deep page (default 90000; lowered
//                to leave a full page of 20 when the database has fewer)
//   DETAIL_SLUG  the bulletin of the detail question (default: the newest published bulletin that has figures,
//                programs and partners)
//   INDICATOR    the indicator of the statistics questions (default returns_assisted, a flow broken down by
//                `age_group` in generated data)
//
// How the deep page's cursor is derived: the bulletin at position DEEP_DEPTH of the published list (newest first,
// ties by id, 1-based) is the last one before the page. PostGraphile is asked for that edge with
// `allBulletins(condition: {status: "published"}, orderBy: [PUBLISHED_ON_DESC, ROW_ID_DESC], offset: DEEP_DEPTH - 1,
// first: 1) { edges { cursor node { rowId publishedOn } } }`.
//   - PostGraphile's `after` is that edge's `cursor` (base64 of ["<order digest>", "<published_on>", "<id>"]).
//   - Boletin's `after` is its own cursor for the same bulletin, "<published_on>|<id>" (what boletin's
//     `edges { cursor }` answers for it).
//   - The filter variant takes the same (published_on, id) as `$publishedOn`, `$id`.

import { pathToFileURL } from "node:url";

export async function graphql(url, query, variables = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return body;
}

async function data(url, query, variables) {
  const body = await graphql(url, query, variables);
  if (body.errors?.length) {
    throw new Error(`${url}: ${body.errors.map((e) => e.message).join("; ")}`);
  }
  return body.data;
}

export async function deriveVariables(postgraphileUrl, env = process.env) {
  const indicator = env.INDICATOR ?? "returns_assisted";
  const wantedDepth = Number(env.DEEP_DEPTH ?? 90000);

  const { allBulletins: published } = await data(
    postgraphileUrl,
    `{ allBulletins(condition: {status: "published"}) { totalCount } }`,
  );
  const count = published.totalCount;
  const depth = Math.max(1, Math.min(wantedDepth, count - 20));
  const { allBulletins: at } = await data(
    postgraphileUrl,
    `query ($offset: Int!) {
      allBulletins(condition: {status: "published"}, orderBy: [PUBLISHED_ON_DESC, ROW_ID_DESC], offset: $offset, first: 1) {
        edges { cursor node { rowId publishedOn } }
      }
    }`,
    { offset: depth - 1 },
  );
  const edge = at.edges[0];
  if (!edge) throw new Error(`no published bulletin at position ${depth}`);
  const { rowId, publishedOn } = edge.node;

  let slug = env.DETAIL_SLUG;
  if (!slug) {
    const { allBulletins: rich } = await data(
      postgraphileUrl,
      `{ allBulletins(
          first: 1
          condition: {status: "published"}
          orderBy: [PUBLISHED_ON_DESC, ROW_ID_DESC]
          filter: {
            observationsBySourceBulletinIdExist: true
            bulletinProgramsByBulletinIdExist: true
            bulletinPartnersByBulletinIdExist: true
          }
        ) { nodes { slug } } }`,
    );
    slug = rich.nodes[0]?.slug;
    if (!slug) throw new Error("no published bulletin with figures, programs and partners");
  }

  const { indicatorByCode } = await data(
    postgraphileUrl,
    `query ($code: String!) { indicatorByCode(code: $code) { code unit aggregation } }`,
    { code: indicator },
  );

  const boletinCursor = boletinBulletinCursor(publishedOn, rowId);
  return {
    meta: {
      publishedBulletins: count,
      deepDepth: depth,
      deepAfter: { publishedOn, id: rowId },
      indicator: indicatorByCode,
    },
    questions: {
      feed: { boletin: {}, postgraphile: {} },
      detail: { boletin: { slug }, postgraphile: { slug } },
      deep: { boletin: { after: boletinCursor }, postgraphile: { after: edge.cursor } },
      "deep-filter": { boletin: { after: boletinCursor }, postgraphile: { publishedOn, id: rowId } },
      statistics: { boletin: { indicator }, postgraphile: { indicator } },
      "statistics-category": { boletin: { indicator }, postgraphile: { indicator } },
      typename: { boletin: {}, postgraphile: {} },
    },
  };
}

/**
 * boletin's cursor for the bulletin position (publication date, id), as `crates/graphql/src/cursor.rs` writes it:
 * base64url of `v1:bulletins:<date>|<id>:<check>`, the check being the FNV-1a 64-bit hash of what precedes it.
 * The benchmark builds it to start a deep page at a known position, as PostGraphile's own cursor does.
 */
export function boletinBulletinCursor(publishedOn, id) {
  const body = `v1:bulletins:${publishedOn}|${id}`;
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(body, "utf8")) {
    hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return Buffer.from(`${body}:${hash.toString(16).padStart(16, "0")}`).toString("base64url");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const url = process.env.POSTGRAPHILE_URL;
  if (!url) {
    console.error("POSTGRAPHILE_URL is required, e.g. http://127.0.0.1:18600/graphql");
    process.exit(2);
  }
  const derived = await deriveVariables(url);
  console.log(JSON.stringify(derived, null, 2));
}
