/**
 * The report of a simulated run: plain JSON with a fixed key order and
 * numbers rounded to fixed precision, so the same scenario and seed give a
 * byte-identical {@link reportJson}. Wall-clock time is deliberately absent.
 */

/** Exact user-request latency percentiles (nearest rank over every sample), ms, rounded to 0.001. */
export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

/** One tracked client (or fleet of clients under one name). */
export interface ClientReport {
  readonly name: string;
  /** Clients tracked under this name. */
  readonly instances: number;
  /** User requests finished (issued by the load generator; each is `fanout` calls). */
  readonly userRequests: number;
  readonly succeeded: number;
  readonly failed: number;
  /** succeeded / userRequests (0 without user requests), rounded to 1e-6. */
  readonly successRate: number;
  /** Calls ended (`meshkit:call:end`). */
  readonly calls: number;
  /** Attempts started, and among them hedges (racing an attempt still in flight) and retries (after the previous ended). */
  readonly attempts: number;
  readonly hedges: number;
  readonly retries: number;
  /** attempts / calls, hedges / calls, retries / calls (0 without calls), rounded to 1e-6. */
  readonly attemptsPerCall: number;
  readonly hedgesPerCall: number;
  readonly retriesPerCall: number;
  /** Latency of every user request, failures included (a timeout counts its full wait). */
  readonly latencyMs: LatencySummary;
  /** Failed user requests by error code (`ERR_TIMEOUT`, ...), codes in alphabetical order. */
  readonly errors: Readonly<Record<string, number>>;
  /** The latency CDF as `[ms, fraction]` points, fraction ascending (see `CDF_FRACTIONS`). */
  readonly cdf: readonly (readonly [number, number])[];
}

/** One simulated backend: where it sits and what it saw, per bucket. */
export interface BackendReport {
  readonly id: string;
  readonly service: string;
  /** Null when the scenario has no zones. */
  readonly zone: string | null;
  readonly totalRequests: number;
  readonly totalFailures: number;
  /** Requests that reached it, one entry per bucket of the run (missing buckets are 0). */
  readonly requests: readonly number[];
  /** Failures it caused, per bucket. */
  readonly failures: readonly number[];
}

/** An endpoint leaving rotation (`ejected: true`) or returning, for one client. */
export interface EjectionEvent {
  /** Virtual time, ms. */
  readonly t: number;
  readonly client: string;
  readonly endpoint: string;
  readonly ejected: boolean;
  /** Why it was (or had been) ejected; null when not said. */
  readonly reason: string | null;
}

/** A circuit breaker changing state. */
export interface BreakerEvent {
  readonly t: number;
  readonly client: string;
  readonly breaker: string;
  readonly state: 'closed' | 'open' | 'half-open';
}

/**
 * A sampled series of one client's state (the mean over the clients of its
 * track that were sampled), one value per bucket that ends within the run,
 * taken at the bucket's end, rounded to 0.001.
 */
export interface LimiterSeries {
  readonly client: string;
  /** `activeCalls`, `availableEndpoints`, `ejectedEndpoints`, `retryBudget`, `hedgeBudget`, `<policy>.limit`, ... */
  readonly series: string;
  readonly values: readonly number[];
}

/** What happened over time. */
export interface SimTimelines {
  /** In time order. */
  readonly ejections: readonly EjectionEvent[];
  /** In time order. */
  readonly breakers: readonly BreakerEvent[];
  /** Per client in tracking order, series in order of first appearance. */
  readonly limiters: readonly LimiterSeries[];
}

/** A whole run's report. */
export interface SimReport {
  readonly scenario: string;
  readonly seed: number;
  /** Virtual length of the run, ms. */
  readonly durationMs: number;
  /** Width of the time buckets, ms. */
  readonly bucketMs: number;
  /** In tracking order. */
  readonly clients: readonly ClientReport[];
  /** In the order given to the recorder. */
  readonly backends: readonly BackendReport[];
  readonly timelines: SimTimelines;
}

/** A published figure beside meshkit's, for {@link formatTable} and the HTML page. */
export interface Comparison {
  /** What is compared ("peak EWMA success rate"). */
  readonly label: string;
  /** The published figure, as published ("~99.9 %"). */
  readonly published: string | number;
  /** meshkit's figure on the same setup. */
  readonly meshkit: string | number;
}

/** The canonical JSON of a report (2-space indent, trailing newline): byte-identical for the same scenario and seed. */
export function reportJson(report: SimReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** `value` with `digits` decimals, thousands unseparated. */
function fixed(value: number, digits: number): string {
  return value.toFixed(digits);
}

/** A percentage with two decimals. */
export function percent(rate: number): string {
  return `${fixed(rate * 100, 2)} %`;
}

/** Latency in ms: three significant decimals for small values, fewer for large ones. */
export function ms(value: number): string {
  return value >= 100 ? fixed(value, 0) : value >= 10 ? fixed(value, 1) : fixed(value, 2);
}

/** The most frequent error codes of a client, `CODE×count`, at most three. */
function topErrors(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  if (entries.length === 0) return '-';
  const shown = entries.slice(0, 3).map(([code, count]) => `${code}×${count}`);
  return entries.length > 3 ? `${shown.join(' ')} …` : shown.join(' ');
}

/** Lays out rows as columns, those in `leftAligned` (default the first) left-aligned and the rest right-aligned, with a rule under the header. */
export function layout(rows: readonly (readonly string[])[], leftAligned: readonly number[] = [0]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, index) => (leftAligned.includes(index) ? cell.padEnd(widths[index] as number) : cell.padStart(widths[index] as number))).join('  ').trimEnd();
  const [header, ...body] = rows;
  if (header === undefined) return '';
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Index of the error codes in {@link summaryRows} (left-aligned, like the names). */
export const SUMMARY_ERRORS_COLUMN = 11;

/** The summary rows of a report: a header, then one row per client. */
export function summaryRows(report: SimReport): string[][] {
  const rows = [['client', 'requests', 'success', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'att/call', 'hedge/call', 'retry/call', 'errors']];
  for (const c of report.clients) {
    rows.push([
      c.name, String(c.userRequests), percent(c.successRate), ms(c.latencyMs.p50), ms(c.latencyMs.p90), ms(c.latencyMs.p99),
      ms(c.latencyMs.p999), ms(c.latencyMs.max), fixed(c.attemptsPerCall, 3), fixed(c.hedgesPerCall, 3), fixed(c.retriesPerCall, 3),
      topErrors(c.errors),
    ]);
  }
  return rows;
}

/** A comparison figure as shown: a number with up to four decimals, a string as given. */
export function figure(value: string | number): string {
  return typeof value === 'number' ? String(Number(value.toFixed(4))) : value;
}

/**
 * The report as a plain-text table: a title line (scenario, seed, virtual
 * duration), one row per client (user requests, success rate, p50 to max,
 * attempts, hedges and retries per call, the three commonest error codes),
 * then, when `comparisons` are given, each published figure beside meshkit's.
 */
export function formatTable(report: SimReport, comparisons: readonly Comparison[] = []): string {
  const title = `${report.scenario} · seed ${report.seed} · ${fixed(report.durationMs / 1000, 1)} s simulated`;
  const parts = [title, '', layout(summaryRows(report), [0, SUMMARY_ERRORS_COLUMN])];
  if (comparisons.length > 0) {
    const rows = [['', 'published', 'meshkit'], ...comparisons.map((c) => [c.label, figure(c.published), figure(c.meshkit)])];
    parts.push('', layout(rows));
  }
  return `${parts.join('\n')}\n`;
}
