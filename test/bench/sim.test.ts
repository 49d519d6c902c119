/**
 * Smoke test of the compiled sim bench at a tiny size: it runs end to end,
 * exits 0, prints a row per case and the targets, and writes its JSON
 * and markdown. Asserts structure and counts only, never timing: this
 * machine is shared.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluateSimTargets, type SimCaseResult } from '../../bench/sim.js';
import type { SimScenarioResult } from '../../bench/sim-scenario.js';
import { runBench } from '../helpers/run-bench.js';

interface CaseJson {
  name: string;
  calls: number;
  backends: number;
  clients: number;
  succeeded: number;
  simulatedMs: number;
  wallMs: number;
  callsPerWallSecond: number;
  simulatedPerWall: number;
  events: number;
  eventsPerWallSecond: number;
  heapBeforeMb: number;
  peakHeapUsedMb: number;
  peakHeapTotalMb: number;
  peakRssMb: number;
  heapSamples: number;
  liveHeapEndMb: number;
}

const SIZE = { BENCH_SIM_SHORT_CALLS: '1500', BENCH_SIM_FULL_CALLS: '3000', BENCH_SIM_BACKENDS: '30', BENCH_SIM_CLIENTS: '3', BENCH_SIM_RATE: '1000' };

test('sim runs every case at a tiny size: a row each, the targets not judged below their size, JSON and markdown written', { timeout: 120_000 }, async () => {
  const resultsDir = await mkdtemp(join(tmpdir(), 'meshkit-bench-sim-'));
  try {
    const result = await runBench(['sim'], { ...SIZE, BENCH_SIM_CASES: 'fleet-scale,short,full', BENCH_SIM_SCENARIO_SCALE: '0.05', BENCH_RESULTS_DIR: resultsDir });
    assert.equal(result.code, 0, `bench failed:\n${result.stdout}\n${result.stderr}`);
    const lines = result.stdout.split('\n');
    for (const [name, calls] of [['short', '1,500'], ['full', '3,000']] as const) {
      // case, calls, backends, clients, rate, wall s, simulated s, sim/wall, calls/wall s, events, events/wall s, succeeded, 4 memory columns
      const row = new RegExp(`^${name}\\s+${calls}\\s+30\\s+3\\s+1,000\\s+[\\d.]+\\s+\\d+\\s+[\\d.]+x\\s+[\\d,]+\\s+[\\d,]+\\s+[\\d,]+\\s+[\\d,]+(\\s+[\\d.]+){5}$`);
      assert.ok(lines.some((line) => row.test(line)), `no row for ${name}:\n${result.stdout}`);
    }
    // scenario, variant, scale, backends, clients, calls, success, wall s, simulated s, sim/wall, calls/wall s, peak heap, peak RSS
    assert.ok(lines.some((line) => /^fleet-scale\s+peak-ewma\s+0\.05\s+50\s+5\s+[\d,]+\s+[\d.]+ %\s+[\d.]+\s+30\s+[\d.]+x\s+[\d,]+\s+[\d.]+\s+[\d.]+$/.test(line)), result.stdout);
    const verdicts = lines.filter((line) => /\s(PASS|MISS|NOT RUN)$/.test(line));
    assert.equal(verdicts.length, 3, result.stdout);
    assert.equal(verdicts.filter((line) => /full case below the target size\s+NOT RUN$/.test(line)).length, 2, result.stdout);
    assert.ok(verdicts.some((line) => /^the shipped fleet-scale scenario .* run below scale 1\s+NOT RUN$/.test(line)), result.stdout);

    const files = await readdir(resultsDir);
    assert.ok(files.includes('sim-latest.md'), files.join(', '));
    const jsonName = files.find((name) => /^sim-.+\.json$/.test(name));
    assert.ok(jsonName !== undefined, `no JSON result in ${files.join(', ')}`);
    const report = JSON.parse(await readFile(join(resultsDir, jsonName), 'utf8')) as {
      scenario: string;
      cases: CaseJson[];
      targets: { id: string; result: string }[];
      scenarioCase: SimScenarioResult;
    };
    assert.equal(report.scenario, 'sim');
    assert.deepEqual(report.cases.map((c) => [c.name, c.calls, c.backends, c.clients]), [['short', 1500, 30, 3], ['full', 3000, 30, 3]]);
    for (const c of report.cases) {
      // Every call ended; 3 budgeted attempts absorb the backends' 1 % errors almost always.
      assert.ok(c.succeeded > c.calls * 0.9 && c.succeeded <= c.calls, `${c.name}: ${c.succeeded} of ${c.calls} succeeded`);
      // 1,000 arrivals per simulated second: about calls / 1,000 seconds, rounded up to whole seconds.
      assert.ok(c.simulatedMs >= (c.calls / 1000) * 0.8 * 1000 && c.simulatedMs % 1000 === 0, `${c.name}: ${c.simulatedMs} ms simulated`);
      assert.ok(c.events > c.calls, `${c.name}: ${c.events} events for ${c.calls} calls`);
      assert.ok(c.wallMs > 0 && c.callsPerWallSecond > 0 && c.simulatedPerWall > 0 && c.eventsPerWallSecond > 0, JSON.stringify(c));
      assert.ok(c.heapSamples >= c.simulatedMs / 1000, `${c.name}: ${c.heapSamples} heap samples`);
      assert.ok(c.heapBeforeMb > 0 && c.peakHeapUsedMb >= c.heapBeforeMb && c.peakHeapTotalMb >= c.peakHeapUsedMb && c.peakRssMb > 0, JSON.stringify(c));
      assert.ok(c.liveHeapEndMb > 0, JSON.stringify(c));
    }
    // 5 clients sending 20 user requests per second each for 30 simulated seconds: about 3,000 calls.
    const scenario = report.scenarioCase;
    assert.deepEqual([scenario.scenario, scenario.variant, scenario.scale, scenario.backends, scenario.clients, scenario.simulatedMs], ['fleet-scale', 'peak-ewma', 0.05, 50, 5, 30_000]);
    assert.ok(Math.abs(scenario.calls - 3000) < 300 && scenario.successRate > 0.9 && scenario.successRate <= 1, JSON.stringify(scenario));
    assert.ok(scenario.wallMs > 0 && scenario.peakHeapUsedMb > 0 && scenario.peakRssMb > scenario.peakHeapUsedMb, JSON.stringify(scenario));
    assert.deepEqual(report.targets.map((t) => [t.id, t.result]), [['sim-full-wall', 'NOT RUN'], ['sim-full-heap', 'NOT RUN'], ['sim-fleet-scale-wall', 'NOT RUN']]);
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
});

test('sim with an unknown case name crashes with a message naming BENCH_SIM_CASES and exits 1', { timeout: 60_000 }, async () => {
  const result = await runBench(['sim'], { BENCH_SIM_CASES: 'short,huge' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /BENCH_SIM_CASES must be a comma-separated list of short, full, fleet-scale, got "short,huge"/);
});

function fullCase(overrides: Partial<SimCaseResult>): SimCaseResult {
  return {
    name: 'full', calls: 1_200_000, backends: 1000, clients: 100, rate: 2000, succeeded: 1_199_990, simulatedMs: 600_000, wallMs: 30_000,
    callsPerWallSecond: 40_000, simulatedPerWall: 20, events: 3_000_000, eventsPerWallSecond: 100_000,
    peakHeapUsedMb: 300, peakHeapTotalMb: 350, peakRssMb: 450, heapSamples: 601, liveHeapEndMb: 200, heapBeforeMb: 10, ...overrides,
  };
}

test('the targets are judged on the full case at the issue\'s size: under 60 s of wall time and under 1 GB of heap', () => {
  assert.deepEqual(evaluateSimTargets([fullCase({})]).map((t) => [t.id, t.measured, t.result]), [
    ['sim-full-wall', '30.0 s', 'PASS'], ['sim-full-heap', '300 MB peak used', 'PASS'], ['sim-fleet-scale-wall', 'not run (opt-in)', 'NOT RUN'],
  ]);
  assert.deepEqual(evaluateSimTargets([fullCase({ wallMs: 60_000, peakHeapUsedMb: 1024 })]).map((t) => t.result), ['MISS', 'MISS', 'NOT RUN']);
  assert.deepEqual(evaluateSimTargets([fullCase({ wallMs: 59_900, peakHeapUsedMb: 1023.9 })]).map((t) => t.result), ['PASS', 'PASS', 'NOT RUN']);
  // A short case alone, or a full case made smaller by the environment, is not the target's run.
  assert.deepEqual(evaluateSimTargets([{ ...fullCase({}), name: 'short' }]).slice(0, 2).map((t) => [t.measured, t.result]), [
    ['full case not run', 'NOT RUN'], ['full case not run', 'NOT RUN'],
  ]);
  for (const smaller of [{ calls: 1_199_999 }, { backends: 999 }, { clients: 99 }]) {
    assert.deepEqual(evaluateSimTargets([fullCase(smaller)]).map((t) => t.result), ['NOT RUN', 'NOT RUN', 'NOT RUN'], JSON.stringify(smaller));
  }
});

function scenarioCase(overrides: Partial<SimScenarioResult>): SimScenarioResult {
  return {
    scenario: 'fleet-scale', variant: 'peak-ewma', scale: 1, backends: 1000, clients: 100, calls: 1_200_000, successRate: 0.999,
    simulatedMs: 600_000, wallMs: 45_000, callsPerWallSecond: 26_667, simulatedPerWall: 13.33, peakHeapUsedMb: 500, peakRssMb: 700, ...overrides,
  };
}

test('the fleet-scale scenario\'s wall time is judged only at scale 1', () => {
  const judged = (scenario: SimScenarioResult): [string, string] => {
    const target = evaluateSimTargets([], scenario)[2];
    return [target?.measured ?? '', target?.result ?? ''];
  };
  assert.deepEqual(judged(scenarioCase({})), ['45.0 s', 'PASS']);
  assert.deepEqual(judged(scenarioCase({ wallMs: 180_000 })), ['180.0 s', 'MISS']);
  assert.deepEqual(judged(scenarioCase({ scale: 0.5, wallMs: 1000 })), ['run below scale 1', 'NOT RUN']);
});
