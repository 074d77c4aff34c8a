// Build-time only (run by build.mjs, never shipped): the countries of Mesoamerica and the Caribbean, from
// Natural Earth's 1:50m shapes in `world-atlas`, projected once and kept as SVG paths keyed by ISO 3166-1
// alpha-2 code. The browser then draws the map with no geography library and no download.
import { geoMercator, geoPath } from 'd3-geo';
import countriesLib from 'i18n-iso-countries';
import { createRequire } from 'node:module';
import { feature } from 'topojson-client';

const require = createRequire(import.meta.url);

/** What the map shows: from northern Mexico to Panama and across the Caribbean, in degrees. */
const REGION = { west: -118, east: -59, south: 6.5, north: 33 };
const WIDTH = 960;
const HEIGHT = 540;

export function regionMap() {
  const world = require('world-atlas/countries-50m.json');
  const shapes = feature(world, world.objects.countries).features;
  const frame = {
    type: 'Feature',
    geometry: {
      type: 'MultiPoint',
      coordinates: [
        [REGION.west, REGION.south],
        [REGION.east, REGION.north],
      ],
    },
  };
  const projection = geoMercator()
    .fitExtent(
      [
        [0, 0],
        [WIDTH, HEIGHT],
      ],
      frame,
    )
    .clipExtent([
      [0, 0],
      [WIDTH, HEIGHT],
    ]);
  const path = geoPath(projection).digits(1);
  const countries = [];
  for (const shape of shapes) {
    const code = shape.id && countriesLib.numericToAlpha2(shape.id);
    if (!code) continue;
    const d = path(shape);
    if (!d) continue;
    countries.push({ code, d });
  }
  countries.sort((a, b) => a.code.localeCompare(b.code));
  return { width: WIDTH, height: HEIGHT, countries };
}
