// Puts boletin's and PostGraphile's answers to the same benchmark question into one canonical shape, so that
// equal data gives byte-equal JSON.
//
// As a command:
//   node normalize.mjs QUESTION BOLETIN_RESPONSE.json POSTGRAPHILE_RESPONSE.json
// prints two lines: the canonical JSON of boletin's response, then PostGraphile's. Exit status 0 when they are
// equal, 1 when they differ, 2 on bad usage.
//
// QUESTION is feed, detail, deep, deep-filter, statistics or typename. A response with GraphQL errors
// normalizes to {"errors": [messages]} so that it never equals a good answer.
//
// What the canonical shapes keep (and so what the comparison proves):
//   feed, deep, deep-filter: the list of bulletins in order, each {slug, title, summary, publishedOn,
//     countries (codes, in order), programs (slugs, in order), partners ([role, slug] pairs, in order)}.
//   detail: {slug, title, body, publishedOn, programs [{slug, name}], partners [{role, slug, name}],
//     observations [{value, periodStart, periodEnd, indicator}]} in order, or null when there is no such
//     published bulletin.
//   statistics: {total, points [{country, value}] sorted by country}; values rounded to 6 decimals (sums of
//     floating-point figures may be added in a different order by the two servers).
//   statistics-category: {total, points [{category, value}] sorted by category}, rounded the same way.
//   typename: {typename}.
// Roles are lower-cased (boletin answers the enum `IMPLEMENTER`, PostgreSQL stores `implementer`).

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const QUESTIONS = ["feed", "detail", "deep", "deep-filter", "statistics", "statistics-category", "typename"];

const first = (connection) => connection?.nodes?.[0] ?? null;
const round = (x) => (x == null ? null : Math.round(Number(x) * 1e6) / 1e6);
const role = (r) => (r == null ? null : String(r).toLowerCase());

function fail(response) {
  if (response == null || typeof response !== "object") {
    return { errors: [`not a GraphQL response: ${JSON.stringify(response)}`] };
  }
  if (Array.isArray(response.errors) && response.errors.length > 0) {
    return { errors: response.errors.map((e) => e?.message ?? String(e)) };
  }
  if (response.data == null) {
    return { errors: ["no data"] };
  }
  return null;
}

// ---- boletin --------------------------------------------------------------------------------------------------

function boletinListItem(b) {
  return {
    slug: b.slug,
    title: b.title ?? null,
    summary: b.summary ?? null,
    publishedOn: b.publishedOn,
    countries: (b.countries ?? []).map((c) => c.code),
    programs: (b.programs ?? []).map((p) => p.slug),
    partners: (b.partners ?? []).map((p) => [role(p.role), p.partner?.slug ?? null]),
  };
}

function boletinDetail(b) {
  if (b == null) return null;
  return {
    slug: b.slug,
    title: b.title ?? null,
    body: b.body ?? null,
    publishedOn: b.publishedOn,
    programs: (b.programs ?? []).map((p) => ({ slug: p.slug, name: p.name ?? null })),
    partners: (b.partners ?? []).map((p) => ({
      role: role(p.role),
      slug: p.partner?.slug ?? null,
      name: p.partner?.name ?? null,
    })),
    observations: (b.observations ?? []).map((o) => ({
      value: round(o.value),
      periodStart: o.periodStart,
      periodEnd: o.periodEnd,
      indicator: o.indicator?.code ?? null,
    })),
  };
}

function boletin(question, data) {
  switch (question) {
    case "feed":
    case "deep":
    case "deep-filter":
      return { bulletins: (data.bulletins?.nodes ?? []).map(boletinListItem) };
    case "detail":
      return { bulletin: boletinDetail(data.bulletin) };
    case "statistics": {
      const s = data.statistics;
      return {
        total: round(s?.total),
        points: (s?.points ?? [])
          .map((p) => ({ country: p.country?.code ?? null, value: round(p.value) }))
          .sort(byCountry),
      };
    }
    case "statistics-category": {
      const s = data.statistics;
      return {
        total: round(s?.total),
        points: (s?.points ?? [])
          .map((p) => ({ category: p.category ?? null, value: round(p.value) }))
          .sort(byCategory),
      };
    }
    case "typename":
      return { typename: data.__typename };
    default:
      throw new Error(`unknown question ${question}`);
  }
}

// ---- PostGraphile ---------------------------------------------------------------------------------------------

function pgListItem(b) {
  const text = first(b.bulletinTranslationsByBulletinId);
  return {
    slug: b.slug,
    title: text?.title ?? null,
    summary: text?.summary ?? null,
    publishedOn: b.publishedOn,
    countries: (b.bulletinCountriesByBulletinId?.nodes ?? []).map((c) => c.country),
    programs: (b.programsByBulletinProgramBulletinIdAndProgramId?.nodes ?? []).map((p) => p.slug),
    partners: (b.bulletinPartnersByBulletinId?.nodes ?? []).map((p) => [
      role(p.role),
      p.partnerByPartnerId?.slug ?? null,
    ]),
  };
}

function pgDetail(b) {
  if (b == null) return null;
  const text = first(b.bulletinTranslationsByBulletinId);
  return {
    slug: b.slug,
    title: text?.title ?? null,
    body: text?.body ?? null,
    publishedOn: b.publishedOn,
    programs: (b.programsByBulletinProgramBulletinIdAndProgramId?.nodes ?? []).map((p) => ({
      slug: p.slug,
      name: first(p.programTranslationsByProgramId)?.name ?? null,
    })),
    partners: (b.bulletinPartnersByBulletinId?.nodes ?? []).map((p) => ({
      role: role(p.role),
      slug: p.partnerByPartnerId?.slug ?? null,
      name: first(p.partnerByPartnerId?.partnerTranslationsByPartnerId)?.name ?? null,
    })),
    observations: (b.observationsBySourceBulletinId?.nodes ?? []).map((o) => ({
      value: round(o.value),
      periodStart: o.periodStart,
      periodEnd: o.periodEnd,
      indicator: o.indicatorByIndicatorId?.code ?? null,
    })),
  };
}

function postgraphile(question, data) {
  switch (question) {
    case "feed":
    case "deep":
    case "deep-filter":
      return { bulletins: (data.allBulletins?.nodes ?? []).map(pgListItem) };
    case "detail":
      return { bulletin: pgDetail(first(data.allBulletins)) };
    case "statistics":
      return {
        total: round(data.total?.aggregates?.sum?.value),
        points: (data.byCountry?.groupedAggregates ?? [])
          .map((g) => ({ country: g.keys?.[0] ?? null, value: round(g.sum?.value) }))
          .sort(byCountry),
      };
    case "statistics-category":
      return {
        total: round(data.total?.aggregates?.sum?.value),
        points: (data.byCategory?.groupedAggregates ?? [])
          .map((g) => ({ category: g.keys?.[0] ?? null, value: round(g.sum?.value) }))
          .sort(byCategory),
      };
    case "typename":
      return { typename: data.__typename };
    default:
      throw new Error(`unknown question ${question}`);
  }
}

function byCountry(a, b) {
  return a.country < b.country ? -1 : a.country > b.country ? 1 : 0;
}

function byCategory(a, b) {
  return a.category < b.category ? -1 : a.category > b.category ? 1 : 0;
}

/** The canonical form of `response` (a parsed GraphQL response) from `side` ("boletin" or "postgraphile"). */
export function normalize(question, side, response) {
  if (!QUESTIONS.includes(question)) {
    throw new Error(`unknown question ${question}; one of ${QUESTIONS.join(", ")}`);
  }
  const failed = fail(response);
  if (failed) return failed;
  if (side === "boletin") return boletin(question, response.data);
  if (side === "postgraphile") return postgraphile(question, response.data);
  throw new Error(`unknown side ${side}`);
}

/** Canonical JSON text: keys in the order the shapes above build them, no whitespace. */
export function canonicalJson(question, side, response) {
  return JSON.stringify(normalize(question, side, response));
}

/** Up to `limit` paths where two canonical values differ, each with both values. */
export function differences(a, b, limit = 20, path = "$", out = []) {
  if (out.length >= limit) return out;
  const kind = (x) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x);
  if (kind(a) !== kind(b)) {
    out.push({ path, boletin: a, postgraphile: b });
  } else if (kind(a) === "array") {
    if (a.length !== b.length) out.push({ path: `${path}.length`, boletin: a.length, postgraphile: b.length });
    for (let i = 0; i < Math.min(a.length, b.length); i++) differences(a[i], b[i], limit, `${path}[${i}]`, out);
  } else if (kind(a) === "object") {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      differences(a[key], b[key], limit, `${path}.${key}`, out);
    }
  } else if (a !== b) {
    out.push({ path, boletin: a, postgraphile: b });
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [question, boletinFile, postgraphileFile] = process.argv.slice(2);
  if (!question || !boletinFile || !postgraphileFile) {
    console.error("usage: node normalize.mjs QUESTION BOLETIN_RESPONSE.json POSTGRAPHILE_RESPONSE.json");
    process.exit(2);
  }
  const read = (file) => JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8"));
  const a = canonicalJson(question, "boletin", read(boletinFile));
  const b = canonicalJson(question, "postgraphile", read(postgraphileFile));
  console.log(a);
  console.log(b);
  process.exit(a === b ? 0 : 1);
}
