import type { Client } from '../client/client.js';

/**
 * The numbers of a policy's snapshot state worth a time series: a
 * concurrency limit and what it holds (adaptive concurrency's `limit` and
 * `inFlight`, a bulkhead's `active` and `queued`). Counters since creation
 * and settings are left out: they do not move, or only up.
 */
const POLICY_KEYS: readonly string[] = ['limit', 'inFlight', 'active', 'queued'];

/** Adds `value` to series `name` at sample `index` (a series that appears late reads 0 before). */
function add(samples: Map<string, number[]>, name: string, index: number, value: number): void {
  let series = samples.get(name);
  if (series === undefined) {
    series = [];
    samples.set(name, series);
  }
  while (series.length <= index) series.push(0);
  series[index] = (series[index] as number) + value;
}

/**
 * Samples the state of `clients` (some of a fleet tracked under one name:
 * each value is their mean) at
 * sample `index` into `samples`: calls in flight (`activeCalls`),
 * endpoints in rotation (`availableEndpoints`) and out of it
 * (`ejectedEndpoints`), budgets left (`retryBudget`, `hedgeBudget`) when the
 * client has them, and each policy's limit and occupancy
 * (`<policy>.limit`, `<policy>.inFlight`, `<policy>.active`,
 * `<policy>.queued`). Series are named in the order they first appear,
 * which the run determines.
 */
export function sampleSnapshot(clients: readonly Client[], samples: Map<string, number[]>, index: number): void {
  for (const client of clients) {
    const snapshot = client.snapshot();
    add(samples, 'activeCalls', index, snapshot.activeCalls);
    let available = 0;
    let ejected = 0;
    for (const endpoint of snapshot.endpoints) {
      if (endpoint.available) available++;
      if (endpoint.ejected) ejected++;
    }
    add(samples, 'availableEndpoints', index, available);
    add(samples, 'ejectedEndpoints', index, ejected);
    if (snapshot.retryBudgetRemaining !== undefined) add(samples, 'retryBudget', index, snapshot.retryBudgetRemaining);
    if (snapshot.hedgeBudgetRemaining !== undefined) add(samples, 'hedgeBudget', index, snapshot.hedgeBudgetRemaining);
    for (const policy of snapshot.policies) {
      const state = policy.state;
      if (state === undefined) continue;
      for (const key of POLICY_KEYS) {
        const value = state[key];
        if (typeof value === 'number' && Number.isFinite(value)) add(samples, `${policy.name}.${key}`, index, value);
      }
    }
  }
  // Series that did not appear in this sample still get a value for it; sums become means.
  for (const series of samples.values()) {
    while (series.length <= index) series.push(0);
    series[index] = (series[index] as number) / clients.length;
  }
}
