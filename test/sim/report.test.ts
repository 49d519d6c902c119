import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatTable, reportJson, type ClientReport, type SimReport } from '../../src/sim/report.js';
import { smallRun } from './support.js';

/** A client row with every number given, for the table tests. */
function row(name: string, overrides: Partial<ClientReport> = {}): ClientReport {
  return {
    name, instances: 1, userRequests: 1000, succeeded: 950, failed: 50, successRate: 0.95, calls: 1000, attempts: 1100, hedges: 40, retries: 60,
    attemptsPerCall: 1.1, hedgesPerCall: 0.04, retriesPerCall: 0.06,
    latencyMs: { p50: 4.5, p90: 12.25, p99: 150, p999: 1000, max: 1999.5, mean: 20 },
    errors: { ERR_TIMEOUT: 30, ERR_UPSTREAM: 20 }, cdf: [], ...overrides,
  };
}

const HAND_MADE: SimReport = {
  scenario: 'linkerd-2016', seed: 7, durationMs: 60_000, bucketMs: 1000,
  clients: [
    row('round-robin'),
    row('peak-ewma', {
      succeeded: 999, failed: 1, successRate: 0.999, errors: { ERR_TIMEOUT: 1 },
      latencyMs: { p50: 3, p90: 5, p99: 9.875, p999: 40, max: 120, mean: 3.5 },
    }),
    row('fleet', { errors: { ERR_B: 1, ERR_A: 1, ERR_C: 5, ERR_D: 2 } }),
  ],
  backends: [],
  timelines: { ejections: [], breakers: [], limiters: [] },
};

describe('SimReport', () => {
  it('is byte-identical for the same seed, different for another, with a fixed key order', async () => {
    const first = reportJson(await smallRun(42));
    const second = reportJson(await smallRun(42));
    assert.equal(first, second);
    assert.notEqual(reportJson(await smallRun(43)), first);
    const report = JSON.parse(first) as SimReport;
    assert.deepEqual(Object.keys(report), ['scenario', 'seed', 'durationMs', 'bucketMs', 'clients', 'backends', 'timelines']);
    assert.deepEqual(Object.keys(report.clients[0]!), [
      'name', 'instances', 'userRequests', 'succeeded', 'failed', 'successRate', 'calls', 'attempts', 'hedges', 'retries',
      'attemptsPerCall', 'hedgesPerCall', 'retriesPerCall', 'latencyMs', 'errors', 'cdf',
    ]);
    assert.deepEqual(Object.keys(report.timelines), ['ejections', 'breakers', 'limiters']);
    assert.ok(first.endsWith('}\n'));
    // Numbers at fixed precision: no float noise such as 0.30000000000000004 anywhere.
    for (const match of first.matchAll(/-?\d+\.(\d+)/g)) assert.ok(match[1]!.length <= 6, match[0]);
    // The run is real: traffic, failures, hedges and retries all show up.
    const web = report.clients.find((c) => c.name === 'web')!;
    const batch = report.clients.find((c) => c.name === 'batch')!;
    assert.ok(web.userRequests > 1000 && web.hedges > 0 && web.retries > 0, JSON.stringify(web).slice(0, 300));
    assert.equal(batch.calls, batch.userRequests * 3, 'three calls per user request');
    assert.equal(report.backends.length, 6);
    assert.equal(report.backends[0]!.requests.length, 16, '4 s in buckets of 250 ms');
    assert.ok(report.timelines.ejections.some((e) => e.endpoint === '127.0.0.6:8080' && e.ejected));
    const codes = Object.keys(batch.errors);
    assert.deepEqual(codes, [...codes].sort(), 'error codes in alphabetical order');
  });

  it('prints a table: one row per client, the commonest errors, and published figures beside meshkit\'s', () => {
    const table = formatTable(HAND_MADE, [
      { label: 'round robin success', published: '~95 %', meshkit: '95.00 %' },
      { label: 'peak EWMA success', published: 99.9, meshkit: 99.912345 },
    ]);
    const expected = [
      'linkerd-2016 · seed 7 · 60.0 s simulated',
      '',
      'client       requests  success  p50 ms  p90 ms  p99 ms  p99.9 ms  max ms  att/call  hedge/call  retry/call  errors',
      '-----------  --------  -------  ------  ------  ------  --------  ------  --------  ----------  ----------  ------------------------------',
      'round-robin      1000  95.00 %    4.50    12.3     150      1000    2000     1.100       0.040       0.060  ERR_TIMEOUT×30 ERR_UPSTREAM×20',
      'peak-ewma        1000  99.90 %    3.00    5.00    9.88      40.0     120     1.100       0.040       0.060  ERR_TIMEOUT×1',
      'fleet            1000  95.00 %    4.50    12.3     150      1000    2000     1.100       0.040       0.060  ERR_C×5 ERR_D×2 ERR_A×1 …',
      '',
      '                     published  meshkit',
      '-------------------  ---------  -------',
      'round robin success      ~95 %  95.00 %',
      'peak EWMA success         99.9  99.9123',
      '',
    ].join('\n');
    assert.equal(table, expected);
    assert.ok(!formatTable(HAND_MADE).includes('published'), 'no comparison table without comparisons');
  });
});
