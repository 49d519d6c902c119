import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BASELINE_ID } from './http-clients.js';
import type { CellResult } from './http-matrix.js';
import type { MachineInfo } from './machine.js';
import type { OverheadOptions } from './options.js';
import type { PipelineResult } from './pipeline.js';
import { median } from './stats.js';
import { markdownTable, passMissRows, targetsMarkdown, targetsText, textTable } from './table.js';
import type { TargetResult } from './targets.js';
import type { MtlsResult } from './mtls.js';

/** Everything one overhead run produced; this is the JSON written to bench/results. */
export interface OverheadReport {
  readonly scenario: 'overhead';
  readonly startedAt: string;
  readonly machine: MachineInfo;
  readonly options: OverheadOptions;
  readonly meshkitStages: unknown;
  readonly pipeline: PipelineResult;
  readonly http: readonly CellResult[];
  readonly targets: readonly TargetResult[];
  /** The mTLS row: c.request with an identity vs raw undici over the same TLS. */
  readonly mtls?: MtlsResult;
}

function mtlsLines(m: MtlsResult | undefined): string[] {
  if (m === undefined) return [];
  return [
    '',
    `(c) mutual TLS, keep-alive GET at ${m.concurrency} concurrent, ${m.rawReqPerSec.length} alternating rounds: ` +
      `meshkit c.request with .identity() ${integer(median(m.meshkitReqPerSec))} req/s, raw undici over the same TLS ${integer(median(m.rawReqPerSec))} req/s, ` +
      `ratio ${(m.ratio * 100).toFixed(1)}% (median of per-round ratios)${m.errors > 0 ? `; ${m.errors} errors, first: ${m.firstError}` : ''}`,
  ];
}

const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const integer = (value: number): string => (Number.isFinite(value) ? String(Math.round(value)) : 'n/a');

const HTTP_HEADER = ['client', 'conc', 'req/s', 'spread', 'p50 ms', 'p99 ms', `vs ${BASELINE_ID}`, 'cpu us/req', 'upstream cpu', 'errors'];

/** (max - min) / median of the per-round req/s: above ~10% the machine was busy during the cell. */
function roundSpreadPercent(rates: readonly number[]): number {
  if (rates.length < 2) return 0;
  return ((Math.max(...rates) - Math.min(...rates)) / median(rates)) * 100;
}

function httpRows(cells: readonly CellResult[]): string[][] {
  return cells.map((c) => [
    c.client,
    String(c.concurrency),
    integer(c.reqPerSec),
    `${integer(roundSpreadPercent(c.roundReqPerSec))}%`,
    fixed(c.p50Ms, 3),
    fixed(c.p99Ms, 3),
    `${fixed(c.ratioToBaseline, 2)}x`,
    fixed(c.clientCpuMicrosPerRequest, 1),
    `${integer(c.upstreamCpuPercent)}%`,
    String(c.errors),
  ]);
}

const PIPELINE_HEADER = ['', 'ns/call', 'min', 'max', 'added', 'added min', 'added max'];

function pipelineRows(p: PipelineResult): string[][] {
  const range = (medianNs: number, rounds: readonly number[]): string[] =>
    [integer(medianNs), integer(Math.min(...rounds)), integer(Math.max(...rounds))];
  return [
    ['direct call (await fn(endpoint))', ...range(p.directMedianNs, p.directNs), '-', '-', '-'],
    ...p.subjects.map((s) => [s.label, ...range(s.medianNs, s.ns), ...range(s.addedMedianNs, s.addedNs)]),
  ];
}

function machineLine(m: MachineInfo): string {
  return `node ${m.node}, ${m.platform}, ${m.cpus} CPUs (${m.cpuModel}), load ${fixed(m.loadAverage1m, 2)}`;
}

function httpCaption(o: OverheadOptions): string {
  return `${o.rounds} rounds x ${fixed(o.seconds / o.rounds, 2)} s per cell after ${fixed(o.warmupSeconds, 2)} s warm-up; ` +
    `${o.connections} connections per pool; upstream in a separate process`;
}

export function formatText(r: OverheadReport): string {
  const p = r.pipeline;
  const errors = r.http.filter((c) => c.errors > 0).map((c) => `  ${c.client} @${c.concurrency}: ${c.errors} errors, first: ${c.firstError}`);
  return [
    `meshkit overhead bench, ${r.startedAt}`,
    machineLine(r.machine),
    '',
    `(a) pipeline cost without network, ns/call: median, min and max of ${p.rounds} rounds x ${p.callsPerRound} sequential calls;`,
    '    added = (row - direct call) in the same round, median over rounds',
    textTable(PIPELINE_HEADER, pipelineRows(p)),
    '',
    `(b) HTTP keep-alive GET, closed loop; ${httpCaption(r.options)}`,
    textTable(HTTP_HEADER, httpRows(r.http)),
    ...(errors.length > 0 ? ['', 'errors:', ...errors] : []),
    ...mtlsLines(r.mtls),
    '',
    targetsText(passMissRows(r.targets)),
  ].join('\n');
}

export function formatMarkdown(r: OverheadReport): string {
  const p = r.pipeline;
  return [
    '# meshkit overhead bench (latest run)',
    '',
    `${r.startedAt}; ${machineLine(r.machine)}.`,
    'See bench/README.md for what each number means. The bench and the upstream share the same 2 cores.',
    '',
    `## (a) pipeline cost without network (median of ${p.rounds} rounds x ${p.callsPerRound} calls)`,
    '',
    '`added` is (row - direct call) in the same round, median over rounds.',
    '',
    markdownTable(PIPELINE_HEADER, pipelineRows(p)),
    '',
    '## (b) HTTP',
    '',
    `${httpCaption(r.options)}.`,
    '',
    markdownTable(HTTP_HEADER, httpRows(r.http)),
    ...mtlsLines(r.mtls),
    '',
    targetsMarkdown(passMissRows(r.targets)),
    '',
  ].join('\n');
}

/** Writes `overhead-<timestamp>.json` and `overhead-latest.md`; returns their paths. */
export async function writeReport(r: OverheadReport, dir: string): Promise<{ json: string; markdown: string }> {
  await mkdir(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const json = join(dir, `overhead-${stamp}.json`);
  const markdown = join(dir, 'overhead-latest.md');
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(markdown, formatMarkdown(r));
  return { json, markdown };
}
