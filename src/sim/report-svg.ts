/**
 * Inline SVG charts for the simulator's HTML report: no script, no font
 * files, nothing fetched. Every string that reaches the markup goes
 * through {@link escapeHtml}.
 */

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

/** Series colours: distinguishable, and readable on white. */
export const PALETTE: readonly string[] = [
  '#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22',
];

/** The colour of series `index`. */
export function colour(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}

/** A coordinate with one decimal (enough on screen, and keeps the file small). */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** A tick on an axis: where (in the chart's own units) and what it says. */
export interface Tick {
  readonly at: number;
  readonly label: string;
}

/** One line of a {@link lineChart}. */
export interface LineSeries {
  readonly name: string;
  /** Points in the chart's units, x ascending. */
  readonly points: readonly (readonly [number, number])[];
  /** Draw as steps (a value holds until the next point). Default false. */
  readonly step?: boolean;
}

/** What a {@link lineChart} draws. */
export interface LineChartSpec {
  /** `data-chart` of the svg, which tests and readers select by. */
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
  readonly xTicks: readonly Tick[];
  readonly yTicks: readonly Tick[];
  readonly series: readonly LineSeries[];
  /** Default 720 × 300. */
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { left: 64, right: 16, top: 28, bottom: 40 };

/** A line chart: one `path.series` per series (with `data-series`), axes with ticks, and a legend. */
export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 720;
  const height = spec.height ?? 300;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const [x0, x1] = spec.x;
  const [y0, y1] = spec.y;
  const sx = (x: number): number => MARGIN.left + (x1 === x0 ? 0 : ((x - x0) / (x1 - x0)) * plotW);
  const sy = (y: number): number => MARGIN.top + plotH - (y1 === y0 ? 0 : ((Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * plotH);
  const parts: string[] = [
    `<svg class="chart" data-chart="${escapeHtml(spec.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(spec.title)}">`,
    `<text class="title" x="${MARGIN.left}" y="16">${escapeHtml(spec.title)}</text>`,
    `<rect class="plot" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/>`,
  ];
  for (const tick of spec.xTicks) {
    const x = n(sx(tick.at));
    parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/><text class="tick" x="${x}" y="${MARGIN.top + plotH + 14}" text-anchor="middle">${escapeHtml(tick.label)}</text>`);
  }
  for (const tick of spec.yTicks) {
    const y = n(sy(tick.at));
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${y}" y2="${y}"/><text class="tick" x="${MARGIN.left - 6}" y="${y}" dy="4" text-anchor="end">${escapeHtml(tick.label)}</text>`);
  }
  parts.push(`<text class="axis" x="${MARGIN.left + plotW / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`);
  parts.push(`<text class="axis" transform="translate(12 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.yLabel)}</text>`);
  spec.series.forEach((series, index) => {
    let d = '';
    let previousY: number | undefined;
    for (const [x, y] of series.points) {
      const px = n(sx(x));
      const py = n(sy(y));
      if (d === '') d = `M${px} ${py}`;
      else d += series.step === true && previousY !== undefined ? `H${px}V${py}` : `L${px} ${py}`;
      previousY = y;
    }
    parts.push(`<path class="series" data-series="${escapeHtml(series.name)}" d="${d}" stroke="${colour(index)}"/>`);
  });
  const legendY = MARGIN.top + 12;
  const legendRows = Math.min(spec.series.length, 12);
  // A backing so the legend stays legible over the lines.
  if (legendRows > 0) parts.push(`<rect class="legend-box" x="${MARGIN.left + plotW - 156}" y="${legendY - 12}" width="152" height="${legendRows * 14 + 4}" fill="#fff" fill-opacity="0.85"/>`);
  spec.series.slice(0, 12).forEach((series, index) => {
    const y = legendY + index * 14;
    parts.push(`<rect x="${MARGIN.left + plotW - 150}" y="${y - 8}" width="10" height="10" fill="${colour(index)}"/><text class="legend" x="${MARGIN.left + plotW - 136}" y="${y}">${escapeHtml(series.name.length > 22 ? `${series.name.slice(0, 21)}…` : series.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Ticks at powers of ten from `low` to `high` (both powers of ten), labelled with `format`. */
export function decadeTicks(low: number, high: number, format: (value: number) => string): Tick[] {
  const ticks: Tick[] = [];
  for (let exponent = Math.round(Math.log10(low)); exponent <= Math.round(Math.log10(high)); exponent++) {
    ticks.push({ at: exponent, label: format(10 ** exponent) });
  }
  return ticks;
}

/** About `count` round ticks between `low` and `high`. */
export function linearTicks(low: number, high: number, count: number, format: (value: number) => string = String): Tick[] {
  if (!(high > low)) return [{ at: low, label: format(low) }];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: Tick[] = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) {
    ticks.push({ at: value, label: format(Number(value.toPrecision(12))) });
  }
  return ticks;
}

/** One row of a {@link heatmap}. */
export interface HeatRow {
  readonly label: string;
  /** One value per column (>= 0). */
  readonly values: readonly number[];
}

/** Intensity levels of a heatmap: cells of one level share one path, so a large map stays small. */
const LEVELS = 10;

/**
 * A heatmap: rows top to bottom, columns left to right (time), cell shade
 * proportional to its value over the largest. Drawn as one path per shade
 * (`path.level`), not a rect per cell; `g.row` per row carries the label.
 */
export function heatmap(id: string, title: string, rows: readonly HeatRow[], columnMs: number, colourOf: string, valueLabel: string): string {
  const rowH = rows.length > 40 ? 8 : 14;
  const labelW = 200;
  const columns = rows[0]?.values.length ?? 0;
  const cellW = columns === 0 ? 0 : Math.max(2, Math.min(40, Math.floor(600 / columns)));
  // Wide enough for the title, however few the columns.
  const width = Math.max(labelW + cellW * columns + 16, 720);
  const height = 28 + rowH * rows.length + 34;
  let max = 0;
  for (const row of rows) for (const value of row.values) if (value > max) max = value;
  const paths: string[] = Array.from({ length: LEVELS }, () => '');
  rows.forEach((row, r) => {
    row.values.forEach((value, c) => {
      if (value <= 0 || max === 0) return;
      const level = Math.min(LEVELS - 1, Math.floor((value / max) * LEVELS));
      paths[level] += `M${labelW + c * cellW} ${28 + r * rowH}h${cellW}v${rowH}h-${cellW}z`;
    });
  });
  const parts = [
    `<svg class="chart heatmap" data-chart="${escapeHtml(id)}" data-rows="${rows.length}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<text class="title" x="0" y="16">${escapeHtml(title)} (darkest = ${escapeHtml(formatCount(max))} ${escapeHtml(valueLabel)})</text>`,
    `<rect class="plot" x="${labelW}" y="28" width="${cellW * columns}" height="${rowH * rows.length}"/>`,
  ];
  paths.forEach((d, level) => {
    if (d !== '') parts.push(`<path class="level" fill="${colourOf}" fill-opacity="${((level + 1) / LEVELS).toFixed(1)}" d="${d}"/>`);
  });
  // Dense maps label every fifth row, so labels never overlap.
  const labelEvery = rowH >= 14 ? 1 : 5;
  rows.forEach((row, r) => {
    const label = r % labelEvery === 0 ? `<text class="tick" x="${labelW - 6}" y="${28 + r * rowH + rowH - 1}" text-anchor="end">${escapeHtml(row.label)}</text>` : '';
    parts.push(`<g class="row" data-label="${escapeHtml(row.label)}">${label}</g>`);
  });
  const seconds = (columns * columnMs) / 1000;
  parts.push(`<text class="axis" x="${labelW}" y="${height - 8}">0 s</text><text class="axis" x="${labelW + cellW * columns}" y="${height - 8}" text-anchor="end">${escapeHtml(formatCount(seconds))} s</text>`);
  parts.push('</svg>');
  return parts.join('');
}

/** A count or rate with at most two decimals. */
export function formatCount(value: number): string {
  return String(Math.round(value * 100) / 100);
}
