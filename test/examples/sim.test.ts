// examples/sim: round robin and peak EWMA on one simulated fleet and seed. The
// runnable example prints both tables; the same seed gives the same reports;
// both balancers see the same arrivals; peak EWMA keeps traffic off the slow
// backend, as the example says.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { reportJson, type SimReport } from '../../src/sim/index.js';
import { compareBalancers, SLOW_BACKEND, type CompareOptions } from '../../examples/sim/compare.js';

const run = promisify(execFile);
const main = fileURLToPath(new URL('../../examples/sim/main.js', import.meta.url));

const OPTIONS: CompareOptions = { seed: 5, seconds: 30, rate: 200 };

function byName(reports: readonly SimReport[], name: string): SimReport {
  const report = reports.find((r) => r.scenario === name);
  assert.ok(report !== undefined, `no report named ${name} in ${reports.map((r) => r.scenario).join(', ')}`);
  return report;
}

function slowShare(report: SimReport): number {
  const total = report.backends.reduce((sum, b) => sum + b.totalRequests, 0);
  return (report.backends[SLOW_BACKEND]?.totalRequests ?? 0) / total;
}

describe('examples/sim', () => {
  it('main prints both balancers\' tables for the requested seed and length, and the slow backend\'s share under each', async () => {
    const { stdout, stderr } = await run(process.execPath, [main, '--seed', '3', '--seconds', '20', '--rate', '100'], { timeout: 60_000 });
    assert.equal(stderr, '');
    for (const name of ['round-robin', 'peak-ewma']) {
      assert.match(stdout, new RegExp(`^${name} · seed 3 · 20\\.0 s simulated$`, 'm'));
      assert.match(stdout, new RegExp(`^  ${name}\\s+\\d+\\.\\d %$`, 'm'));
    }
    // One row per table, for the client 'web': about 2,000 user requests (100/s for 20 s), the same count in both.
    const rows = stdout.split('\n').filter((line) => line.startsWith('web '));
    assert.equal(rows.length, 2, stdout);
    const counts = rows.map((row) => Number(row.split(/\s+/)[1]));
    assert.equal(counts[0], counts[1]);
    assert.ok(Math.abs((counts[0] as number) - 2000) < 200, `user requests: ${counts.join(', ')}`);
  });

  it('refuses a bad flag value with one line and its usage, exit code 2', async () => {
    await assert.rejects(run(process.execPath, [main, '--seconds', '0'], { timeout: 30_000 }), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 2);
      assert.equal(error.stderr, 'examples/sim: --seconds must be a positive number, got "0"\nusage: node .build/examples/sim/main.js [--seed N] [--seconds S] [--rate R]\n');
      return true;
    });
  });

  it('the same seed gives byte-identical reports, both balancers see the same arrivals, and peak EWMA avoids the slow backend', async () => {
    const first = await compareBalancers(OPTIONS);
    const second = await compareBalancers(OPTIONS);
    assert.deepEqual(first.map((r) => r.scenario), ['round-robin', 'peak-ewma']);
    assert.deepEqual(second.map(reportJson), first.map(reportJson));

    const roundRobin = byName(first, 'round-robin');
    const peakEwma = byName(first, 'peak-ewma');
    const [rr, pe] = [roundRobin.clients[0], peakEwma.clients[0]];
    assert.ok(rr !== undefined && pe !== undefined);
    // The load is an open loop at 200/s for 30 s: the same Poisson arrivals under both balancers.
    assert.equal(rr.userRequests, pe.userRequests);
    assert.ok(Math.abs(rr.userRequests - 6000) < 400, `user requests: ${rr.userRequests}`);
    assert.equal(roundRobin.backends.length, 12);
    assert.deepEqual(peakEwma.backends.map((b) => b.id), roundRobin.backends.map((b) => b.id));
    // Round robin gives the slow backend its even share; peak EWMA less, and its p99 stays far below the 250 ms per-try timeout.
    assert.ok(Math.abs(slowShare(roundRobin) - 1 / 12) < 0.01, `round robin's share: ${slowShare(roundRobin)}`);
    assert.ok(slowShare(peakEwma) < slowShare(roundRobin) * 0.85, `shares: ${slowShare(peakEwma)} vs ${slowShare(roundRobin)}`);
    assert.ok(pe.latencyMs.p99 < rr.latencyMs.p99 / 2, `p99: ${pe.latencyMs.p99} vs ${rr.latencyMs.p99}`);
  });
});
