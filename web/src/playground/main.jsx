// The playground: GraphiQL from npm, bundled at build time and served by boletin itself, so it works with no
// network beyond the boletin server (and under a Content-Security-Policy that names no other host).
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
import { keepAccessible } from './a11y.js';
import { examples } from './examples.js';
import './playground.css';

const http = new URL('/graphql', window.location.href);
const ws = new URL(http);
ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';

const fetcher = createGraphiQLFetcher({
  url: http.href,
  wsClient: createClient({ url: ws.href, lazy: true }),
});

const root = document.getElementById('graphiql');
keepAccessible(root);
createRoot(root).render(
  <GraphiQL fetcher={fetcher} defaultTabs={examples} defaultEditorToolsVisibility="variables" isHeadersEditorEnabled />,
);
