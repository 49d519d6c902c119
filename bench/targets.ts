import type { CellResult } from './http-matrix.js';
import type { PipelineResult } from './pipeline.js';

/** A target from the issue. A miss is reported, never turned into a failing exit code. */
export interface TargetResult {
  readonly id: string;
  readonly description: string;
  readonly measured: string;
  readonly pass: boolean;
}

export const MAX_ADDED_NS = 1000;
export const MIN_REQUEST_RATIO = 0.9;

export function evaluateTargets(pipeline: PipelineResult, cells: readonly CellResult[]): TargetResult[] {
  // The issue names 64; if BENCH_CONCURRENCY drops it, judge the highest concurrency that ran.
  const top = Math.max(...cells.map((c) => c.concurrency));
  const request = cells.find((c) => c.client === 'meshkit-request' && c.concurrency === top);
  const ratio = request?.ratioToBaseline ?? Number.NaN;
  return [
    {
      id: 'pipeline-added-ns',
      description: `pipeline adds <= ${MAX_ADDED_NS / 1000} us per call over a direct call`,
      measured: `${Math.round(pipeline.addedMedianNs)} ns`,
      pass: pipeline.addedMedianNs <= MAX_ADDED_NS,
    },
    {
      id: 'request-ratio',
      description: `c.request keeps >= ${MIN_REQUEST_RATIO * 100}% of raw undici req/s at ${top} concurrent`,
      measured: `${(ratio * 100).toFixed(1)}%`,
      pass: ratio >= MIN_REQUEST_RATIO,
    },
  ];
}
