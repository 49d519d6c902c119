import { FULL_STACK_REQUEST_ID } from './http-clients.js';
import type { CellResult } from './http-matrix.js';
import { FOUNDATION_ID, FULL_STACK_ID, type PipelineResult } from './pipeline.js';
import { telemetryNoopTarget } from './telemetry.js';
import { telemetrySdkTargets } from './telemetry-targets.js';

/** A target from the issues. A miss is reported, never turned into a failing exit code. */
export interface TargetResult {
  readonly id: string;
  readonly description: string;
  readonly measured: string;
  readonly pass: boolean;
}

/** Foundation issue: the foundation pipeline adds at most 1 us per call. */
export const MAX_ADDED_NS = 1000;
/** Resilience issue: the full policy stack adds at most 1.5 us per call on the success path. */
export const MAX_FULL_STACK_ADDED_NS = 1500;
export const MIN_REQUEST_RATIO = 0.9;

function addedTarget(pipeline: PipelineResult, subjectId: string, id: string, what: string, maxNs: number): TargetResult {
  const added = pipeline.subjects.find((s) => s.id === subjectId)?.addedMedianNs ?? Number.NaN;
  return {
    id,
    description: `${what} adds <= ${maxNs / 1000} us per call over a direct call`,
    measured: Number.isFinite(added) ? `${Math.round(added)} ns` : 'n/a',
    pass: added <= maxNs,
  };
}

function ratioTarget(cells: readonly CellResult[], client: string, id: string, what: string): TargetResult {
  // The issues name 64; if BENCH_CONCURRENCY drops it, judge the highest concurrency that ran.
  const top = Math.max(...cells.map((c) => c.concurrency));
  const ratio = cells.find((c) => c.client === client && c.concurrency === top)?.ratioToBaseline ?? Number.NaN;
  return {
    id,
    description: `${what} keeps >= ${MIN_REQUEST_RATIO * 100}% of raw undici req/s at ${top} concurrent`,
    measured: `${(ratio * 100).toFixed(1)}%`,
    pass: ratio >= MIN_REQUEST_RATIO,
  };
}

export function evaluateTargets(pipeline: PipelineResult, cells: readonly CellResult[]): TargetResult[] {
  return [
    addedTarget(pipeline, FOUNDATION_ID, 'pipeline-added-ns', 'foundation pipeline', MAX_ADDED_NS),
    addedTarget(pipeline, FULL_STACK_ID, 'full-stack-added-ns', 'full policy stack', MAX_FULL_STACK_ADDED_NS),
    ratioTarget(cells, 'meshkit-request', 'request-ratio', 'c.request (foundation)'),
    ratioTarget(cells, FULL_STACK_REQUEST_ID, 'full-stack-request-ratio', 'c.request (full stack)'),
    telemetryNoopTarget(pipeline, FOUNDATION_ID),
    ...telemetrySdkTargets(pipeline, cells, FOUNDATION_ID),
  ];
}
