// The indicators dashboard: pick an indicator, see its total, a chart by month, a map and a table by country,
// and every figure with a link to the bulletin that reported it. Plain DOM and SVG, no framework: the source
// is meant as a starting point for anyone building a dashboard on boletin's API.
import regionMap from 'virtual:region-map';
import { ApiError, BULLETIN, DASHBOARD, INDICATORS, graphql } from './api.js';
import './dashboard.css';
import { TEXT } from './text.js';

const SVG = 'http://www.w3.org/2000/svg';
const app = document.getElementById('app');

/** What is shown, kept in the address's fragment so that a view can be bookmarked and shared. */
function readState() {
  const params = new URLSearchParams(window.location.hash.slice(1));
  const lang = params.get('lang') ?? (navigator.language?.toLowerCase().startsWith('es') ? 'es' : 'en');
  return {
    lang: lang === 'es' ? 'es' : 'en',
    indicator: params.get('indicator') ?? 'returns_assisted',
    bulletin: params.get('bulletin'),
  };
}

function href(state) {
  const params = new URLSearchParams({ lang: state.lang });
  if (state.bulletin) params.set('bulletin', state.bulletin);
  else params.set('indicator', state.indicator);
  return `#${params}`;
}

/** `el('p', { class: 'x' }, 'text', child)`: an element with attributes and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  node.append(...children.flat().filter((c) => c != null));
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

let state = readState();
let text = TEXT[state.lang];
let indicators = [];
let indicatorsLang = null;

const numberFormat = () => new Intl.NumberFormat(state.lang === 'es' ? 'es-MX' : 'en-US', { maximumFractionDigits: 2 });
const formatNumber = (n) => numberFormat().format(n);
const formatDate = (iso, month = false) =>
  new Intl.DateTimeFormat(state.lang === 'es' ? 'es-MX' : 'en-US', {
    year: 'numeric',
    month: month ? 'short' : 'long',
    ...(month ? {} : { day: 'numeric' }),
    timeZone: 'UTC',
  }).format(new Date(`${iso}T00:00:00Z`));
const period = (start, end) => (start === end ? formatDate(start) : `${formatDate(start)} – ${formatDate(end)}`);
const unitName = (unit) => text.units[unit] ?? unit.toLowerCase().replaceAll('_', ' ');

function header() {
  const languages = el(
    'div',
    { class: 'languages', role: 'group', 'aria-label': text.language },
    ['es', 'en'].map((lang) =>
      el(
        'a',
        { href: href({ ...state, lang }), 'aria-current': lang === state.lang ? 'true' : false, lang },
        lang === 'es' ? 'Español' : 'English',
      ),
    ),
  );
  return el(
    'header',
    { class: 'top' },
    el('div', {}, el('p', { class: 'brand' }, 'boletin'), el('h1', {}, text.title), el('p', { class: 'subtitle' }, text.subtitle)),
    languages,
  );
}

function footer() {
  return el(
    'footer',
    {},
    el('p', {}, `${text.api} (`, el('a', { href: '/graphql' }, text.playground), ').'),
  );
}

function page(...content) {
  document.documentElement.lang = state.lang;
  app.replaceChildren(header(), el('main', { id: 'main' }, ...content), footer());
}

function failure(error, again) {
  const detail = error instanceof ApiError && error.code !== 'NETWORK' ? `: ${error.message}` : '.';
  return el(
    'div',
    { class: 'error', role: 'alert' },
    el('p', {}, `${text.failed}${detail}`),
    el('button', { type: 'button', onclick: again }, text.retry),
  );
}

function picker() {
  const select = el(
    'select',
    { id: 'indicator', onchange: (event) => (window.location.hash = href({ ...state, indicator: event.target.value })) },
    indicators.map((i) => el('option', { value: i.code, selected: i.code === state.indicator }, i.name ?? i.code)),
  );
  return el('div', { class: 'picker' }, el('label', { for: 'indicator' }, text.indicator), select);
}

function summary(indicator, byCountry) {
  const total = byCountry.total ?? 0;
  return el(
    'section',
    { class: 'summary', 'aria-labelledby': 'total-label' },
    el('h2', { id: 'total-label' }, indicator.name ?? indicator.code),
    indicator.definition ? el('p', { class: 'definition' }, indicator.definition) : null,
    el(
      'p',
      { class: 'total' },
      el('span', { class: 'figure', 'data-testid': 'total' }, formatNumber(total)),
      ' ',
      el('span', { class: 'unit' }, unitName(indicator.unit)),
    ),
    el('p', { class: 'count' }, text.figures(byCountry.observationCount)),
    byCountry.warnings.length
      ? el(
          'div',
          { class: 'warnings' },
          el('h3', {}, text.warnings),
          el('ul', {}, byCountry.warnings.map((w) => el('li', {}, w.message))),
        )
      : null,
  );
}

/** Bars by month: one bar per month with figures, labelled below, each with its value as a tooltip. */
function monthChart(indicator, byMonth) {
  const points = byMonth.points.filter((p) => p.periodStart);
  const width = 640;
  const height = 220;
  const pad = { top: 16, right: 8, bottom: 36, left: 8 };
  const max = Math.max(...points.map((p) => p.value), 1);
  const step = (width - pad.left - pad.right) / Math.max(points.length, 1);
  const bar = Math.min(step * 0.7, 72);
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': 'month-caption',
    class: 'chart',
  });
  points.forEach((p, i) => {
    const h = ((height - pad.top - pad.bottom) * p.value) / max;
    const x = pad.left + i * step;
    const label = `${formatDate(p.periodStart, true)}: ${formatNumber(p.value)}`;
    chart.append(
      svg(
        'rect',
        { x: x + (step - bar) / 2, y: height - pad.bottom - h, width: bar, height: Math.max(h, 1), class: 'bar' },
        svg('title', {}, label),
      ),
    );
    if (points.length <= 12 || i % Math.ceil(points.length / 12) === 0) {
      const tick = svg('text', { x: x + step / 2, y: height - pad.bottom + 16, 'text-anchor': 'middle', class: 'tick' });
      tick.textContent = formatDate(p.periodStart, true);
      chart.append(tick);
    }
    if (points.length <= 12) {
      const value = svg('text', { x: x + step / 2, y: height - pad.bottom - h - 4, 'text-anchor': 'middle', class: 'value' });
      value.textContent = formatNumber(p.value);
      chart.append(value);
    }
  });
  return el(
    'section',
    { class: 'panel', 'aria-labelledby': 'month-title' },
    el('h2', { id: 'month-title' }, text.byMonth),
    el('figure', {}, chart, el('figcaption', { id: 'month-caption' }, text.byMonthCaption(indicator.name ?? indicator.code))),
  );
}

function countryMap(indicator, points) {
  const values = new Map(points.map((p) => [p.country.code, p]));
  const max = Math.max(...points.map((p) => p.value), 1);
  const map = svg('svg', {
    viewBox: `0 0 ${regionMap.width} ${regionMap.height}`,
    role: 'img',
    'aria-label': text.mapLabel(indicator.name ?? indicator.code),
    class: 'map',
  });
  const drawn = new Set();
  for (const shape of regionMap.countries) {
    const point = values.get(shape.code);
    const level = point ? Math.min(4, Math.floor((4 * point.value) / max)) : null;
    const path = svg('path', { d: shape.d, class: point ? `shade-${level}` : 'empty' });
    if (point) {
      path.append(svg('title', {}, `${point.country.name}: ${formatNumber(point.value)}`));
      drawn.add(shape.code);
    }
    map.append(path);
  }
  const off = points.filter((p) => !drawn.has(p.country.code));
  return el(
    'div',
    { class: 'map-box' },
    map,
    off.length
      ? el('p', { class: 'off-map' }, `${text.offMap}: `, off.map((p) => `${p.country.name} (${formatNumber(p.value)})`).join(', '))
      : null,
  );
}

function table(caption, head, rows) {
  return el(
    'div',
    { class: 'scroll', role: 'region', 'aria-label': caption, tabindex: '0' },
    el(
      'table',
      {},
      el('caption', { class: 'visually-hidden' }, caption),
      el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col', class: h.numeric ? 'num' : null }, h.label)))),
      el('tbody', {}, rows),
    ),
  );
}

function byCountryPanel(indicator, byCountry) {
  const points = byCountry.points.filter((p) => p.country);
  const rows = points.map((p) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, p.country.name),
      el('td', { class: 'num' }, formatNumber(p.value)),
      el('td', { class: 'num' }, String(p.observationCount)),
    ),
  );
  return el(
    'section',
    { class: 'panel', 'aria-labelledby': 'country-title' },
    el('h2', { id: 'country-title' }, text.byCountry),
    el(
      'div',
      { class: 'split' },
      countryMap(indicator, points),
      table(
        text.byCountry,
        [{ label: text.country }, { label: text.value, numeric: true }, { label: text.count, numeric: true }],
        rows,
      ),
    ),
  );
}

function bulletinLink(source) {
  return el('a', { href: href({ ...state, bulletin: source.slug }) }, source.title ?? source.slug);
}

function sourcesPanel(indicator) {
  const rows = indicator.observations.map((o) =>
    el(
      'tr',
      {},
      el('td', { class: 'num' }, formatNumber(o.value)),
      el('td', {}, period(o.periodStart, o.periodEnd)),
      el('td', {}, o.countries.map((c) => c.name).join(', ')),
      el('td', {}, o.program?.name ?? ''),
      el('td', {}, o.partner?.name ?? ''),
      el('td', {}, o.source ? bulletinLink(o.source) : ''),
    ),
  );
  return el(
    'section',
    { class: 'panel', 'aria-labelledby': 'sources-title' },
    el('h2', { id: 'sources-title' }, text.sources),
    table(
      text.sources,
      [
        { label: text.value, numeric: true },
        { label: text.period },
        { label: text.countries },
        { label: text.program },
        { label: text.partner },
        { label: text.source },
      ],
      rows,
    ),
  );
}

async function showIndicator() {
  if (indicatorsLang !== state.lang) {
    indicators = (await graphql(INDICATORS, { lang: state.lang.toUpperCase() })).indicators;
    indicatorsLang = state.lang;
  }
  if (!indicators.some((i) => i.code === state.indicator) && indicators.length) state.indicator = indicators[0].code;
  const data = await graphql(DASHBOARD, { code: state.indicator, lang: state.lang.toUpperCase() });
  const { indicator, byCountry, byMonth } = data;
  if (!byCountry.observationCount) {
    page(picker(), summary(indicator, byCountry), el('p', { class: 'status' }, text.none));
    return;
  }
  page(
    picker(),
    el('div', { class: 'grid' }, summary(indicator, byCountry), monthChart(indicator, byMonth)),
    byCountryPanel(indicator, byCountry),
    sourcesPanel(indicator),
  );
}

async function showBulletin() {
  const { bulletin } = await graphql(BULLETIN, { slug: state.bulletin, lang: state.lang.toUpperCase() });
  const back = el('p', {}, el('a', { href: href({ ...state, bulletin: null }) }, `← ${text.back}`));
  if (!bulletin) {
    page(back, el('p', { class: 'status' }, text.noBulletin));
    return;
  }
  const rows = bulletin.observations.map((o) =>
    el(
      'tr',
      {},
      el('td', {}, el('a', { href: href({ ...state, bulletin: null, indicator: o.indicator.code }) }, o.indicator.name ?? o.indicator.code)),
      el('td', { class: 'num' }, `${formatNumber(o.value)} ${unitName(o.indicator.unit)}`),
      el('td', {}, period(o.periodStart, o.periodEnd)),
      el('td', {}, o.countries.map((c) => c.name).join(', ')),
    ),
  );
  page(
    back,
    el(
      'article',
      { class: 'bulletin', lang: bulletin.language?.toLowerCase() ?? state.lang },
      el('h2', {}, bulletin.title ?? bulletin.slug),
      el(
        'p',
        { class: 'meta' },
        `${text.published} ${formatDate(bulletin.publishedOn)}`,
        bulletin.dateline ? ` · ${bulletin.dateline}` : '',
        bulletin.countries.length ? ` · ${bulletin.countries.map((c) => c.name).join(', ')}` : '',
      ),
      bulletin.summary ? el('p', { class: 'lead' }, bulletin.summary) : null,
      (bulletin.body ?? '').split(/\n{2,}/).filter(Boolean).map((paragraph) => el('p', {}, paragraph)),
    ),
    rows.length
      ? el(
          'section',
          { class: 'panel', 'aria-labelledby': 'reported-title' },
          el('h2', { id: 'reported-title' }, text.reported),
          table(
            text.reported,
            [{ label: text.indicatorColumn }, { label: text.value, numeric: true }, { label: text.period }, { label: text.countries }],
            rows,
          ),
        )
      : null,
  );
}

async function render() {
  state = readState();
  text = TEXT[state.lang];
  document.documentElement.lang = state.lang;
  document.title = `boletin · ${text.title}`;
  app.setAttribute('aria-busy', 'true');
  try {
    await (state.bulletin ? showBulletin() : showIndicator());
  } catch (error) {
    page(failure(error, render));
  } finally {
    app.removeAttribute('aria-busy');
  }
}

window.addEventListener('hashchange', () => {
  render();
  window.scrollTo(0, 0);
});
render();
