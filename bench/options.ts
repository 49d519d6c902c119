import { fileURLToPath } from 'node:url';

/** Knobs of the overhead scenario, read once from the environment so a run is reproducible from its JSON. */
export interface OverheadOptions {
  /** Measured seconds per (client, concurrency) cell, split across `rounds`. */
  readonly seconds: number;
  /** Rounds per cell; the client order changes every round to spread ordering bias. */
  readonly rounds: number;
  /** Unmeasured seconds per cell before the first round (connections, JIT). */
  readonly warmupSeconds: number;
  readonly concurrencies: readonly number[];
  /** Connections per pool for every client, so no client is starved at the top concurrency. */
  readonly connections: number;
  /** Sequential calls per round in the no-network pipeline measurement. */
  readonly pipelineCalls: number;
  readonly pipelineRounds: number;
  /** Where JSON and markdown results go (git-ignored by default). */
  readonly resultsDir: string;
  /** Ids of the HTTP clients to run (the baseline always runs); undefined for all. */
  readonly clients: readonly string[] | undefined;
}

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function envList(name: string, fallback: readonly number[]): readonly number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`${name} must be a comma-separated list of integers >= 1, got ${JSON.stringify(raw)}`);
  }
  return values;
}

function envIds(name: string): readonly string[] | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
}

export function readOverheadOptions(): OverheadOptions {
  const seconds = envNumber('BENCH_SECONDS', 3, 0.01);
  const concurrencies = envList('BENCH_CONCURRENCY', [1, 64]);
  return {
    seconds,
    rounds: Math.round(envNumber('BENCH_ROUNDS', 6, 1)),
    // A sixth of the cell, capped: enough to open every connection and let the JIT settle.
    warmupSeconds: envNumber('BENCH_WARMUP_SECONDS', Math.min(0.5, seconds / 6), 0),
    concurrencies,
    connections: Math.max(...concurrencies),
    pipelineCalls: Math.round(envNumber('BENCH_PIPELINE_CALLS', 100_000, 100)),
    pipelineRounds: Math.round(envNumber('BENCH_PIPELINE_ROUNDS', 7, 1)),
    resultsDir: process.env['BENCH_RESULTS_DIR'] ?? fileURLToPath(new URL('../../bench/results/', import.meta.url)),
    clients: envIds('BENCH_CLIENTS'),
  };
}
