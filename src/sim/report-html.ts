import { figure, summaryRows, type BackendReport, type Comparison, type SimReport } from './report.js';
import { decadeTicks, escapeHtml, formatCount, heatmap, lineChart, linearTicks, type HeatRow, type LineSeries, type Tick } from './report-svg.js';

/** Heatmap rows at most: beyond this many backends, consecutive backends share a row (their mean). */
const MAX_ROWS = 60;
/** Heatmap columns at most: beyond this many buckets, neighbouring buckets share a column. */
const MAX_COLUMNS = 120;
/** Limiter charts at most (the first series in report order). */
const MAX_LIMITER_CHARTS = 24;
/** The deepest tail the CDF shows: 99.999 % (five nines). */
const MAX_NINES = 5;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.meta{color:#555}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th:first-child,td:first-child,table.summary td:last-child,table.summary th:last-child{text-align:left}thead th{border-bottom:2px solid #999}
.chart{display:block;margin:8px 0;max-width:100%;height:auto}
.chart .plot{fill:none;stroke:#bbb}.chart .grid{stroke:#eee}.chart .tick,.chart .legend{font-size:11px;fill:#444}
.chart .axis{font-size:12px;fill:#333}.chart .title{font-size:13px;font-weight:600;fill:#222}
.chart path.series{fill:none;stroke-width:1.6}
.multiples{display:flex;flex-wrap:wrap;gap:8px}
.state-closed{fill:#2ca02c}.state-open{fill:#d62728}.state-half-open{fill:#ff9f1c}
.none{color:#777;font-style:italic}
`;

/** `value` ms as a short label. */
function msLabel(value: number): string {
  return value >= 1000 ? `${formatCount(value / 1000)} s` : `${formatCount(value)} ms`;
}

function summaryTable(report: SimReport): string {
  const [header, ...rows] = summaryRows(report);
  const head = (header ?? []).map((cell) => `<th>${escapeHtml(cell)}</th>`).join('');
  const body = rows.map((row, index) => `<tr data-client="${escapeHtml(report.clients[index]?.name ?? '')}">${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('');
  return `<table class="summary"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function comparisonTable(comparisons: readonly Comparison[]): string {
  if (comparisons.length === 0) return '';
  const rows = comparisons.map((c) => `<tr><td>${escapeHtml(c.label)}</td><td>${escapeHtml(figure(c.published))}</td><td>${escapeHtml(figure(c.meshkit))}</td></tr>`).join('');
  return `<h2>Published and meshkit</h2><table class="comparisons"><thead><tr><th></th><th>published</th><th>meshkit</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Latency CDFs on a log latency axis, the fraction on a "nines" axis (50 %, 90 %, 99 %, ...) so the tail is visible. */
function cdfChart(report: SimReport): string {
  const clients = report.clients.filter((c) => c.cdf.length > 0);
  if (clients.length === 0) return '<p class="none">No user requests.</p>';
  let low = Infinity;
  let high = 0;
  for (const c of clients) {
    for (const [value] of c.cdf) {
      if (value > 0 && value < low) low = value;
      if (value > high) high = value;
    }
  }
  if (low === Infinity) low = 1;
  const lowExp = Math.floor(Math.log10(low));
  const highExp = Math.max(lowExp + 1, Math.ceil(Math.log10(Math.max(high, low))));
  const nines = (q: number): number => -Math.log10(1 - Math.min(q, 1 - 10 ** -MAX_NINES));
  const series: LineSeries[] = clients.map((c) => ({
    name: c.name,
    points: c.cdf.map(([value, q]) => [Math.log10(Math.max(value, 10 ** lowExp)), nines(q)] as const),
  }));
  const yTicks: Tick[] = [[0.5, '50 %'], [0.9, '90 %'], [0.99, '99 %'], [0.999, '99.9 %'], [0.9999, '99.99 %'], [0.99999, '99.999 %']]
    .map(([q, label]) => ({ at: nines(q as number), label: label as string }));
  return lineChart({
    id: 'latency-cdf', title: 'User-request latency CDF (log latency; fraction in nines)', xLabel: 'latency', yLabel: 'fraction of user requests at or below',
    x: [lowExp, highExp], y: [0, MAX_NINES], xTicks: decadeTicks(10 ** lowExp, 10 ** highExp, msLabel), yTicks, series,
  });
}

/** The group a backend is charted in: its zone, with its service when the report has several. */
function groupOf(backend: BackendReport, services: number): string {
  const zone = backend.zone ?? 'no zone';
  return services > 1 ? `${backend.service} / ${zone}` : zone;
}

/** Requests per second per backend, one line per zone (a mean, so groups of different sizes compare). */
function zoneChart(report: SimReport): string {
  const services = new Set(report.backends.map((b) => b.service)).size;
  const groups = new Map<string, BackendReport[]>();
  for (const backend of report.backends) {
    const key = groupOf(backend, services);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [backend]);
    else list.push(backend);
  }
  const buckets = report.backends[0]?.requests.length ?? 0;
  // Neighbouring buckets share a point beyond MAX_COLUMNS, as in the heatmap.
  const perPoint = Math.max(1, Math.ceil(buckets / MAX_COLUMNS));
  const pointMs = perPoint * report.bucketMs;
  let max = 0;
  const series: LineSeries[] = [...groups].map(([name, members]) => {
    const points: [number, number][] = [];
    for (let first = 0; first < buckets; first += perPoint) {
      const last = Math.min(buckets, first + perPoint);
      let sum = 0;
      for (const member of members) for (let i = first; i < last; i++) sum += member.requests[i] ?? 0;
      const value = (sum / members.length) * (1000 / ((last - first) * report.bucketMs));
      if (value > max) max = value;
      points.push([(first * report.bucketMs) / 1000, value], [Math.min(first * report.bucketMs + pointMs, report.durationMs) / 1000, value]);
    }
    return { name: `${name} (${members.length})`, points };
  });
  const seconds = report.durationMs / 1000;
  return lineChart({
    id: 'zone-load', title: 'Requests per second per backend, by zone (mean over its backends)', xLabel: 'virtual time (s)', yLabel: 'req/s per backend',
    x: [0, seconds], y: [0, max === 0 ? 1 : max * 1.05], xTicks: linearTicks(0, seconds, 8, formatCount), yTicks: linearTicks(0, max === 0 ? 1 : max, 5, formatCount), series,
  });
}

/** Backends folded into at most MAX_ROWS rows and buckets into at most MAX_COLUMNS columns, as a rate per backend. */
function heatRows(report: SimReport, pick: (b: BackendReport) => readonly number[]): { rows: HeatRow[]; columnMs: number } {
  const backends = report.backends;
  const perRow = Math.max(1, Math.ceil(backends.length / MAX_ROWS));
  const buckets = backends[0]?.requests.length ?? 0;
  const perColumn = Math.max(1, Math.ceil(buckets / MAX_COLUMNS));
  const columns = Math.ceil(buckets / perColumn);
  const columnMs = perColumn * report.bucketMs;
  const rows: HeatRow[] = [];
  for (let start = 0; start < backends.length; start += perRow) {
    const members = backends.slice(start, start + perRow);
    const values = new Array<number>(columns).fill(0);
    for (const member of members) {
      pick(member).forEach((value, bucket) => {
        const column = Math.floor(bucket / perColumn);
        values[column] = (values[column] as number) + value;
      });
    }
    const scale = 1000 / (members.length * columnMs);
    const first = members[0] as BackendReport;
    const label = members.length === 1 ? `${first.id} ${first.zone ?? ''}` : `${first.id} … (${members.length})`;
    rows.push({ label: label.trim(), values: values.map((v) => v * scale) });
  }
  return { rows, columnMs };
}

function backendSection(report: SimReport): string {
  if (report.backends.length === 0) return '<p class="none">No backend statistics in this report.</p>';
  const load = heatRows(report, (b) => b.requests);
  const parts = [zoneChart(report), heatmap('backend-load', 'Requests per second per backend over time', load.rows, load.columnMs, '#1f77b4', 'req/s')];
  if (report.backends.some((b) => b.totalFailures > 0)) {
    const failures = heatRows(report, (b) => b.failures);
    parts.push(heatmap('backend-failures', 'Failures per second per backend over time', failures.rows, failures.columnMs, '#d62728', 'failures/s'));
  }
  return parts.join('');
}

/** Endpoints out of rotation over time, one step line per client that ejected any. */
function ejectionChart(report: SimReport): string {
  const events = report.timelines.ejections;
  if (events.length === 0) return '<p class="none">No ejections.</p>';
  const seconds = report.durationMs / 1000;
  const byClient = new Map<string, { out: Set<string>; points: [number, number][] }>();
  let max = 1;
  for (const event of events) {
    let entry = byClient.get(event.client);
    if (entry === undefined) {
      entry = { out: new Set(), points: [[0, 0]] };
      byClient.set(event.client, entry);
    }
    if (event.ejected) entry.out.add(event.endpoint);
    else entry.out.delete(event.endpoint);
    entry.points.push([event.t / 1000, entry.out.size]);
    if (entry.out.size > max) max = entry.out.size;
  }
  const series: LineSeries[] = [...byClient].map(([name, entry]) => ({ name, step: true, points: [...entry.points, [seconds, entry.out.size]] }));
  return lineChart({
    id: 'ejections', title: 'Endpoints ejected (out of rotation), per client', xLabel: 'virtual time (s)', yLabel: 'endpoints ejected',
    x: [0, seconds], y: [0, max], xTicks: linearTicks(0, seconds, 8, formatCount), yTicks: linearTicks(0, max, Math.min(max, 5), formatCount), series,
  });
}

/** One band per breaker: green closed, red open, amber half-open. */
function breakerChart(report: SimReport): string {
  const events = report.timelines.breakers;
  if (events.length === 0) return '<p class="none">No circuit breaker changed state.</p>';
  const keys: string[] = [];
  const byKey = new Map<string, typeof events[number][]>();
  for (const event of events) {
    const key = `${event.client} · ${event.breaker}`;
    if (!byKey.has(key)) {
      keys.push(key);
      byKey.set(key, []);
    }
    byKey.get(key)?.push(event);
  }
  const labelW = 220;
  const plotW = 600;
  const rowH = 18;
  const height = 24 + keys.length * rowH + 20;
  const x = (t: number): string => String(Math.round((labelW + (t / report.durationMs) * plotW) * 10) / 10);
  const parts = [`<svg class="chart" data-chart="breakers" viewBox="0 0 ${labelW + plotW + 16} ${height}" width="${labelW + plotW + 16}" height="${height}" role="img" aria-label="Circuit breaker states">`,
    '<text class="title" x="0" y="14">Circuit breaker states over time (green closed, red open, amber half-open)</text>'];
  keys.forEach((key, row) => {
    const y = 24 + row * rowH;
    const list = byKey.get(key) ?? [];
    const segments: string[] = [];
    let state = 'closed';
    let from = 0;
    for (const event of list) {
      if (event.t > from) segments.push(`<rect class="state-${state}" x="${x(from)}" y="${y}" width="${Math.max(0.5, Number(x(event.t)) - Number(x(from))).toFixed(1)}" height="${rowH - 4}"/>`);
      state = event.state;
      from = event.t;
    }
    if (report.durationMs > from) segments.push(`<rect class="state-${state}" x="${x(from)}" y="${y}" width="${(Number(x(report.durationMs)) - Number(x(from))).toFixed(1)}" height="${rowH - 4}"/>`);
    parts.push(`<g class="breaker" data-breaker="${escapeHtml(key)}"><text class="tick" x="${labelW - 6}" y="${y + 11}" text-anchor="end">${escapeHtml(key)}</text>${segments.join('')}</g>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Small multiples of the sampled limiter and budget series. */
function limiterCharts(report: SimReport): string {
  const all = report.timelines.limiters;
  if (all.length === 0) return '<p class="none">No client state was sampled.</p>';
  const shown = all.slice(0, MAX_LIMITER_CHARTS);
  const charts = shown.map((s, index) => {
    const max = Math.max(1, ...s.values);
    const points = s.values.map((value, i) => [((i + 1) * report.bucketMs) / 1000, value] as const);
    const seconds = report.durationMs / 1000;
    return lineChart({
      id: `limiter-${index}`, title: `${s.client}: ${s.series}`, xLabel: 'virtual time (s)', yLabel: s.series, width: 360, height: 180,
      x: [0, seconds], y: [0, max * 1.05], xTicks: linearTicks(0, seconds, 4, formatCount), yTicks: linearTicks(0, max, 3, formatCount),
      series: [{ name: s.series, points }],
    }).replace('class="chart"', 'class="chart limiter"');
  });
  const more = all.length > shown.length ? `<p class="none">${all.length - shown.length} more series in the JSON report.</p>` : '';
  return `<div class="multiples">${charts.join('')}</div>${more}`;
}

/**
 * The report as one self-contained HTML page: no script, no external font,
 * stylesheet or image (a Content-Security-Policy of `default-src 'none'`
 * says so to the browser). It shows the summary table (and `comparisons`,
 * published figures beside meshkit's), user-request latency CDFs per
 * client on a log latency axis, per-backend load over time (a line per
 * zone, and a heatmap folding thousands of backends into at most 60 rows
 * and 120 columns), ejections, breaker states and the sampled limits.
 * Every string from the scenario is escaped.
 */
export function renderReportHtml(report: SimReport, comparisons: readonly Comparison[] = []): string {
  const title = `meshkit-sim · ${report.scenario}`;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(report.scenario)}</h1>`,
    `<p class="meta">seed ${report.seed} · ${formatCount(report.durationMs / 1000)} s of virtual time · buckets of ${formatCount(report.bucketMs)} ms · ${report.clients.length} clients · ${report.backends.length} backends</p>`,
    '<h2>Summary</h2>', summaryTable(report), comparisonTable(comparisons),
    '<h2>Latency</h2>', cdfChart(report),
    '<h2>Load per backend</h2>', backendSection(report),
    '<h2>Ejections</h2>', ejectionChart(report),
    '<h2>Circuit breakers</h2>', breakerChart(report),
    '<h2>Limits and budgets</h2>', limiterCharts(report),
    '</body></html>\n',
  ].join('');
}
