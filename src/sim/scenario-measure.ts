import type { ScenarioPlan } from './scenario-plan.js';
import type { ScenarioMeasure, ScenarioMetric } from './scenario-types.js';

/** What a measure reads of one client in a run's report (a `SimReport` client has these fields). */
export interface MeasuredClient {
  readonly name: string;
  readonly userRequests: number;
  readonly successRate: number;
  readonly attemptsPerCall: number;
  readonly hedgesPerCall: number;
  readonly retriesPerCall: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly p999: number; readonly max: number };
}

/** What a measure reads of one backend (a `SimReport` backend has these fields). */
export interface MeasuredBackend {
  readonly service: string;
  readonly totalRequests: number;
  /** Requests per bucket. */
  readonly requests: readonly number[];
}

/** What a measure reads of a run: a `SimReport` is one. */
export interface MeasuredRun {
  readonly bucketMs: number;
  readonly clients: readonly MeasuredClient[];
  /** In the order the simulation made them (so a service's backends are in index order). */
  readonly backends: readonly MeasuredBackend[];
}

/** A row of a scenario's comparison table: a published figure (or none) beside meshkit's. */
export interface ScenarioComparison {
  readonly label: string;
  /** As shown: `'95.00 %'`, `'1,800 ms'`, or `'-'` for a row without a published figure. */
  readonly published: string;
  /** As shown; `'n/a'` when the run has nothing to measure it by. */
  readonly meshkit: string;
  readonly variant: string;
  readonly metric: ScenarioMetric;
  readonly client: string;
  /** The numbers behind the two columns. */
  readonly publishedValue: number | undefined;
  readonly meshkitValue: number | undefined;
  /** The publication, for published rows. */
  readonly source: string | undefined;
}

/** Share of the per-instance mean a restarted instance must get back to count as recovered (see `recoveryMs`). */
export const RECOVERED_SHARE = 0.8;

/** Shows a metric's value the way its table column does. */
export function formatMetric(metric: ScenarioMetric, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  switch (metric) {
    case 'successRate':
      return `${(value * 100).toFixed(2)} %`;
    case 'hedgesPerCall':
    case 'retriesPerCall':
      return `${(value * 100).toFixed(1)} %`;
    case 'attemptsPerCall':
      return value.toFixed(2);
    case 'amplification':
      return `${value.toFixed(1)}x`;
    default:
      return `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} ms`;
  }
}

/** The default client of a measure: the scenario's first client with load. */
function clientOf(plan: ScenarioPlan, measure: ScenarioMeasure): string {
  if (measure.client !== undefined) return measure.client;
  const loaded = plan.variants[0]?.clients.find((client) => client.load !== undefined);
  return loaded?.name ?? '';
}

/**
 * How long restarted instances take, on average, to get their share of
 * traffic back: for each bucket from the first that starts at or after an
 * instance rejoined, the mean over restarted instances of their requests
 * over the mean of every instance of the service in that bucket; the first
 * offset where that reaches {@link RECOVERED_SHARE}, in ms (offset + 1
 * buckets: a resolution of one bucket). Averaging over every
 * restart is what makes it measurable: one instance of a large fleet sees a
 * few requests per bucket. Undefined without restarts, or when never reached.
 */
export function recoveryMs(run: MeasuredRun, plan: ScenarioPlan, service: string): number | undefined {
  const planned = plan.services.find((s) => s.name === service);
  if (planned === undefined || planned.rejoins.length === 0) return undefined;
  const backends = run.backends.filter((b) => b.service === service);
  const buckets = backends[0]?.requests.length ?? 0;
  const mean = new Float64Array(buckets);
  for (const backend of backends) backend.requests.forEach((count, k) => { mean[k] = (mean[k] as number) + count / backends.length; });
  const horizon = Math.ceil(60_000 / run.bucketMs); // a minute: longer is not "recovering"
  for (let offset = 0; offset < horizon; offset++) {
    let share = 0;
    let counted = 0;
    for (const [index, at] of planned.rejoins) {
      const k = Math.ceil(at / run.bucketMs) + offset;
      const fleet = mean[k];
      const backend = backends[index];
      if (fleet === undefined || fleet === 0 || backend === undefined || k >= buckets) continue;
      share += (backend.requests[k] ?? 0) / fleet;
      counted++;
    }
    if (counted > 0 && share / counted >= RECOVERED_SHARE) return (offset + 1) * run.bucketMs;
  }
  return undefined;
}

/** Reads one measure off a variant's run; undefined when the run has nothing to read it by. */
export function measureRun(run: MeasuredRun, plan: ScenarioPlan, measure: ScenarioMeasure): number | undefined {
  const name = clientOf(plan, measure);
  const client = run.clients.find((c) => c.name === name);
  const variant = plan.variants.find((v) => v.name === measure.variant);
  const service = measure.service ?? variant?.clients.find((c) => c.name === name)?.service ?? '';
  if (measure.metric === 'recoveryMs') return recoveryMs(run, plan, service);
  if (client === undefined) return undefined;
  const loaded = client.userRequests > 0;
  switch (measure.metric) {
    case 'successRate':
      return loaded ? client.successRate : undefined;
    case 'p50':
    case 'p90':
    case 'p99':
    case 'p999':
    case 'max':
      return loaded ? client.latencyMs[measure.metric] : undefined;
    case 'attemptsPerCall':
      return client.attemptsPerCall;
    case 'hedgesPerCall':
      return client.hedgesPerCall;
    case 'retriesPerCall':
      return client.retriesPerCall;
    default: {
      if (!loaded) return undefined;
      const arrivals = run.backends.filter((b) => b.service === service).reduce((sum, b) => sum + b.totalRequests, 0);
      return arrivals / client.userRequests;
    }
  }
}

const METRIC_LABEL: Readonly<Record<ScenarioMetric, string>> = {
  successRate: 'success rate', p50: 'p50', p90: 'p90', p99: 'p99', p999: 'p99.9', max: 'max',
  attemptsPerCall: 'attempts per call', hedgesPerCall: 'hedges per call', retriesPerCall: 'retries per call',
  amplification: 'requests per user request', recoveryMs: 'time to get its share back',
};

/**
 * The comparison table of a scenario: every published figure beside
 * meshkit's number for the same variant, client and metric, then every
 * measure for every variant. `runs` maps a variant name to its report.
 */
export function compareRuns(plan: ScenarioPlan, runs: ReadonlyMap<string, MeasuredRun>): ScenarioComparison[] {
  const rows: ScenarioComparison[] = [];
  const row = (measure: ScenarioMeasure, label: string, published: number | undefined, source: string | undefined): ScenarioComparison => {
    const run = runs.get(measure.variant);
    const value = run === undefined ? undefined : measureRun(run, plan, measure);
    return {
      label,
      published: published === undefined ? '-' : formatMetric(measure.metric, published),
      meshkit: formatMetric(measure.metric, value),
      variant: measure.variant,
      metric: measure.metric,
      client: clientOf(plan, measure),
      publishedValue: published,
      meshkitValue: value,
      source,
    };
  };
  for (const figure of plan.published) rows.push(row(figure, figure.label, figure.value, figure.source));
  for (const measure of plan.measures) {
    const about = measure.metric === 'amplification' ? ` at ${measure.service ?? 'its service'}` : '';
    const label = `${measure.variant}: ${METRIC_LABEL[measure.metric]}${about} (${clientOf(plan, measure)})`;
    rows.push(row(measure, label, undefined, undefined));
  }
  return rows;
}

/** Two published figures of one metric and client whose order meshkit's numbers should keep. */
export interface PublishedOrder {
  /** The figure published lower. */
  readonly lower: ScenarioComparison;
  /** The figure published higher. */
  readonly higher: ScenarioComparison;
}

/**
 * The direction of every published result: each pair of published rows that
 * measure the same metric of the same client with different published
 * values (round robin's 95 % below peak EWMA's 99.9 %). A run reproduces a
 * publication's direction when, for each pair, meshkit's `lower` is below
 * its `higher`.
 */
export function publishedOrders(comparisons: readonly ScenarioComparison[]): PublishedOrder[] {
  const published = comparisons.filter((row) => row.publishedValue !== undefined);
  const orders: PublishedOrder[] = [];
  published.forEach((a, i) => {
    for (const b of published.slice(i + 1)) {
      if (a.metric !== b.metric || a.client !== b.client || a.publishedValue === b.publishedValue) continue;
      orders.push((a.publishedValue as number) < (b.publishedValue as number) ? { lower: a, higher: b } : { lower: b, higher: a });
    }
  });
  return orders;
}
