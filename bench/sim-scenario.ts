/**
 * The shipped `fleet-scale` scenario, one variant (the default balancer),
 * through `runScenario` as `meshkit-sim` runs it: the engine plus what the
 * engine case leaves out, the recorder and the rolling restart (every
 * instance leaves and rejoins discovery, and every client re-reads its whole
 * endpoint set each time). Opt-in (`BENCH_SIM_CASES=...,fleet-scale`): at
 * full size it takes minutes.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { runScenario } from '../src/sim/run-scenario.js';
import { scenarios } from '../src/sim/scenarios/index.js';

/** What one run of the scenario measured. Memory figures are MB, rounded to 0.1. */
export interface SimScenarioResult {
  readonly scenario: string;
  readonly variant: string;
  /** `--scale`: 1 is the published size (1,000 backends, 100 clients, 10 minutes). */
  readonly scale: number;
  readonly backends: number;
  readonly clients: number;
  /** Calls the clients ended (`meshkit:call:end`). */
  readonly calls: number;
  readonly successRate: number;
  readonly simulatedMs: number;
  /** Wall time of `runScenario`, planning and closing included, ms. */
  readonly wallMs: number;
  readonly callsPerWallSecond: number;
  readonly simulatedPerWall: number;
  /** Highest V8 heap used, sampled every 100 ms of wall time (the simulation yields to Node between virtual instants). */
  readonly peakHeapUsedMb: number;
  readonly peakRssMb: number;
}

const SAMPLE_EVERY_MS = 100;
const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function runFleetScenario(scale: number): Promise<SimScenarioResult> {
  const shipped = scenarios['fleet-scale'];
  if (shipped === undefined) throw new Error('no shipped fleet-scale scenario');
  const variant = shipped.variants?.[0];
  if (variant === undefined) throw new Error('fleet-scale has no variant');
  let peakHeap = 0;
  let peakRss = 0;
  const sample = (): void => {
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  };
  sample();
  // The bench process's own timer, not the simulation's: it measures the run from outside.
  const sampler = setInterval(sample, SAMPLE_EVERY_MS);
  const started = performance.now();
  let run;
  try {
    run = await runScenario({ ...shipped, variants: [variant] }, { scale });
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  sample();
  const report = run.variants[0]?.report;
  if (report === undefined) throw new Error('fleet-scale ran no variant');
  const calls = report.clients.reduce((sum, c) => sum + c.calls, 0);
  const simulatedMs = run.plan.durationMs;
  return {
    scenario: shipped.name,
    variant: variant.name,
    scale,
    backends: report.backends.length,
    clients: report.clients.reduce((sum, c) => sum + c.instances, 0),
    calls,
    successRate: report.clients[0]?.successRate ?? 0,
    simulatedMs,
    wallMs: Math.round(wallMs),
    callsPerWallSecond: Math.round(calls / (wallMs / 1000)),
    simulatedPerWall: Math.round((simulatedMs / wallMs) * 100) / 100,
    peakHeapUsedMb: mb(peakHeap),
    peakRssMb: mb(peakRss),
  };
}
