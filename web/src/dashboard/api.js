// The dashboard talks to boletin only through its public GraphQL API, like any other client.

/** Thrown when the API answers with errors; `code` is the first error's `extensions.code`. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** Runs one operation against `/graphql` and returns its `data`, or throws an ApiError. */
export async function graphql(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch {
    throw new ApiError('network', 'NETWORK');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, 'HTTP');
  }
  if (body.errors?.length) {
    const [first] = body.errors;
    throw new ApiError(first.message, first.extensions?.code ?? 'ERROR');
  }
  return body.data;
}

export const INDICATORS = `
query Indicators($lang: Language!) {
  indicators(lang: $lang) { code name unit }
}`;

export const DASHBOARD = `
query Dashboard($code: String!, $lang: Language!) {
  indicator(code: $code, lang: $lang) {
    code name definition unit aggregation
    observations {
      id value periodStart periodEnd place
      countries { code name }
      program { name }
      partner { name }
      source { slug title publishedOn }
    }
  }
  byCountry: statistics(indicator: $code, groupBy: [COUNTRY], lang: $lang) {
    total observationCount
    points { value observationCount country { code name } }
    warnings { kind message }
  }
  byMonth: statistics(indicator: $code, groupBy: [MONTH], lang: $lang) {
    points { value periodStart periodEnd }
  }
}`;

export const BULLETIN = `
query Bulletin($slug: String!, $lang: Language!) {
  bulletin(slug: $slug, lang: $lang) {
    slug language title summary body publishedOn dateline
    countries { code name }
    programs { name }
    observations {
      id value periodStart periodEnd
      indicator { code name unit }
      countries { code name }
    }
  }
}`;
