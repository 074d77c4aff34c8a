// Asks boletin and PostGraphile every benchmark question in queries/ and reports whether they return the same
// data (after normalize.mjs).
//
//   BOLETIN_URL=http://127.0.0.1:18500/graphql POSTGRAPHILE_URL=http://127.0.0.1:18600/graphql node check.mjs
//
// Environment:
//   BOLETIN_URL, POSTGRAPHILE_URL  the two GraphQL endpoints (required)
//   QUESTIONS        comma-separated subset of the questions (default: every pair in queries/)
//   VARIABLES_FILE   the JSON printed by variables.mjs, to reuse; otherwise the variables are derived now
//                    (DEEP_DEPTH, DETAIL_SLUG and INDICATOR are read as variables.mjs reads them)
//   VERBOSE=1        also print both canonical answers
//   OUT_DIR          write each question's raw and canonical answers there
// Exit status: 0 when every question matched, 1 otherwise.

import { readFileSync, readdirSync, mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { canonicalJson, differences, QUESTIONS } from "./normalize.mjs";
import { deriveVariables, graphql } from "./variables.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const queries = join(here, "queries");
const boletinUrl = process.env.BOLETIN_URL;
const postgraphileUrl = process.env.POSTGRAPHILE_URL;
if (!boletinUrl || !postgraphileUrl) {
  console.error("BOLETIN_URL and POSTGRAPHILE_URL are required");
  process.exit(2);
}

const available = readdirSync(queries)
  .filter((f) => f.endsWith(".postgraphile.graphql"))
  .map((f) => f.slice(0, -".postgraphile.graphql".length))
  .filter((q) => QUESTIONS.includes(q));
const wanted = process.env.QUESTIONS ? process.env.QUESTIONS.split(",").map((s) => s.trim()) : QUESTIONS;
const questions = wanted.filter((q) => available.includes(q));

const derived = process.env.VARIABLES_FILE
  ? JSON.parse(readFileSync(process.env.VARIABLES_FILE, "utf8"))
  : await deriveVariables(postgraphileUrl);
console.log(`variables: ${JSON.stringify(derived.meta)}`);
if (derived.meta?.indicator && derived.meta.indicator.aggregation !== "sum") {
  console.log(
    `warning: indicator ${derived.meta.indicator.code} is a stock (aggregation ${derived.meta.indicator.aggregation}); ` +
      "boletin adds only the latest figure of each series, the PostGraphile query adds every figure: expect a difference",
  );
}
if (process.env.OUT_DIR) mkdirSync(process.env.OUT_DIR, { recursive: true });

let passed = 0;
let failed = 0;
for (const question of questions) {
  const vars = derived.questions[question] ?? { boletin: {}, postgraphile: {} };
  const boletinQuery = readFileSync(join(queries, `${question}.boletin.graphql`), "utf8");
  const postgraphileQuery = readFileSync(join(queries, `${question}.postgraphile.graphql`), "utf8");
  const [a, b] = await Promise.all([
    graphql(boletinUrl, boletinQuery, vars.boletin).catch((e) => ({ errors: [{ message: e.message }] })),
    graphql(postgraphileUrl, postgraphileQuery, vars.postgraphile).catch((e) => ({ errors: [{ message: e.message }] })),
  ]);
  const ca = canonicalJson(question, "boletin", a);
  const cb = canonicalJson(question, "postgraphile", b);
  if (process.env.OUT_DIR) {
    const out = (name, text) => writeFileSync(join(process.env.OUT_DIR, `${question}.${name}.json`), text);
    out("boletin.raw", JSON.stringify(a, null, 2));
    out("postgraphile.raw", JSON.stringify(b, null, 2));
    out("boletin", ca);
    out("postgraphile", cb);
  }
  const summary = describe(JSON.parse(ca));
  if (ca === cb) {
    passed++;
    console.log(`equal      ${question} (${summary}; ${ca.length} bytes canonical)`);
  } else {
    failed++;
    console.log(`DIFFERENT  ${question}`);
    for (const d of differences(JSON.parse(ca), JSON.parse(cb))) {
      console.log(`  ${d.path}\n    boletin:      ${JSON.stringify(d.boletin)}\n    postgraphile: ${JSON.stringify(d.postgraphile)}`);
    }
  }
  if (process.env.VERBOSE) {
    console.log(`  boletin:      ${ca}\n  postgraphile: ${cb}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

function describe(canonical) {
  if (canonical.errors) return `errors: ${canonical.errors.join("; ")}`;
  if (canonical.bulletins) return `${canonical.bulletins.length} bulletins`;
  if ("bulletin" in canonical) {
    const b = canonical.bulletin;
    return b
      ? `${b.slug}: ${b.programs.length} programs, ${b.partners.length} partners, ${b.observations.length} figures`
      : "no bulletin";
  }
  if (canonical.points) return `total ${canonical.total}, ${canonical.points.length} points`;
  return JSON.stringify(canonical);
}
