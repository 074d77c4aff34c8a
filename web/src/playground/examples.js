// The tabs a new user sees first: one runnable operation per thing boletin is for. Each works on the built-in
// catalogue as it is seeded; edit freely, GraphiQL keeps your own tabs in this browser afterwards.

const feed = `# The mobile feed: the newest bulletins, 5 at a time, in Spanish.
# Run it (Ctrl-Enter); for the next page, add {"after": "<pageInfo.endCursor>"} under Variables below.
query Feed($after: String = null) {
  bulletins(first: 5, after: $after, lang: ES) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      slug
      title
      summary
      publishedOn
      countries { code name }
      programs { name }
    }
  }
}
`;

const bulletin = `# One bulletin with the figures it reported; each figure says which bulletin is its source.
query Bulletin($slug: String!) {
  bulletin(slug: $slug, lang: EN) {
    title
    publishedOn
    dateline
    partners { role partner { name } }
    observations {
      value
      periodStart
      periodEnd
      indicator { code name unit }
      countries { code name }
      disaggregations { dimension category value }
      source { slug title }
    }
  }
}
`;

const statistic = `# A dashboard statistic: an indicator added up by country, with warnings about double counting.
# Aliases put several panels in one request.
query Dashboard {
  returns: statistics(indicator: "returns_assisted", groupBy: [COUNTRY], lang: ES) {
    indicator { name unit }
    total
    observationCount
    points { value country { code name } }
    warnings { kind message }
  }
  hires: statistics(indicator: "job_fair_hires") {
    total
  }
}
`;

const search = `# Search both languages at once: each hit comes back in the language it matched.
# Accents and inflections do not matter; "quoted words" must appear together; -word excludes.
query Search {
  search(query: "retorno voluntario", first: 5) {
    totalCount
    nodes {
      score
      snippet
      bulletin { slug language title publishedOn }
    }
  }
}
`;

const subscription = `# Live updates over WebSocket (graphql-transport-ws): leave this running and publish a bulletin as an
# editor (open the Headers tab below and add {"Authorization": "Bearer <your token>"} for mutations).
subscription Published {
  bulletinPublished(lang: ES) {
    slug
    title
    publishedOn
  }
}
`;

export const examples = [
  { query: feed },
  { query: bulletin, variables: '{\n  "slug": "over-a-thousand-migrants-have-returned-voluntarily-with-assistance-from-iom-in"\n}' },
  { query: statistic },
  { query: search },
  { query: subscription },
];
