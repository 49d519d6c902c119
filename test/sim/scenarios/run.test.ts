/**
 * Every shipped scenario at a reduced size: it runs, every published figure
 * gets meshkit's number beside it, and the direction of every published
 * result holds (round robin below peak EWMA, hedged below unhedged); the same
 * seed gives byte-identical JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishedOrders } from '../../../src/sim/scenario-measure.js';
import { runScenario, scenarioRunJson, type ScenarioRun } from '../../../src/sim/run-scenario.js';
import { scenarios } from '../../../src/sim/scenarios/index.js';

/** Sizes that leave each scenario enough requests and time for what it compares (the success-rate rule needs its 10 s interval). */
const SCALES: Readonly<Record<string, number>> = {
  'linkerd-2016': 0.1,
  'linkerd-2017': 0.25,
  'tail-at-scale': 0.05,
  'retry-storm': 0.2,
  'fleet-scale': 0.05,
};

/**
 * Published orders meshkit does not keep, each with its reason (docs/simulator.md, "Where meshkit differs and
 * why"): the test asserts the reversed order, so the doc's claim stays true, and a change that restores the
 * published order fails here until the doc and this list are updated.
 */
const REVERSED: readonly { readonly scenario: string; readonly lower: string; readonly higher: string; readonly reason: string }[] = [{
  scenario: 'linkerd-2017',
  lower: '5 consecutive failures: success rate',
  higher: 'success-rate accrual: success rate',
  reason: "meshkit's success-rate rule is Envoy's, relative to the other hosts (mean - 1.9 stdev, reviewed every 10 s): a host at 60 % "
    + 'among four at 100 % sits barely under the 61.6 % cut-off; Linkerd 1 compared each host with a fixed required success rate',
}];

/** One run per scenario at its test scale, shared by the tests that read it (each run takes seconds). */
const runs = new Map<string, Promise<ScenarioRun>>();
function runAtTestScale(name: string): Promise<ScenarioRun> {
  let run = runs.get(name);
  if (run === undefined) {
    run = runScenario(scenarios[name], { scale: SCALES[name] as number });
    runs.set(name, run);
  }
  return run;
}

describe('shipped scenarios at reduced size', () => {
  for (const [name, scale] of Object.entries(SCALES)) {
    it(`${name} runs, measures every published figure and keeps its direction`, async () => {
      const run = await runAtTestScale(name);
      assert.equal(run.plan.scale, scale);
      assert.deepEqual(run.variants.map((v) => v.name), run.plan.variants.map((v) => v.name));
      for (const row of run.comparisons.filter((r) => r.publishedValue !== undefined)) {
        assert.ok(row.meshkitValue !== undefined, `${name}: no meshkit value for ${row.label}`);
      }
      for (const { lower, higher } of publishedOrders(run.comparisons)) {
        const reversed = REVERSED.some((r) => r.scenario === name && r.lower === lower.label && r.higher === higher.label);
        const [below, above] = reversed ? [higher, lower] : [lower, higher];
        assert.ok((below.meshkitValue as number) < (above.meshkitValue as number),
          `${name}: ${reversed ? 'documented as reversed in meshkit' : 'published'} ${below.label} < ${above.label}, meshkit ${below.meshkit} vs ${above.meshkit}`);
      }
    });
  }

  it('retry-storm: the budget cuts the requests reaching the failing tier', async () => {
    const run = await runAtTestScale('retry-storm');
    const atDb = (variant: string): number => run.comparisons.find((r) => r.variant === variant && r.metric === 'amplification')?.meshkitValue as number;
    assert.ok(atDb('budgeted') * 4 < atDb('naive'), `budgeted ${atDb('budgeted')} vs naive ${atDb('naive')}`);
  });

  it('gives byte-identical JSON for the same seed, and a different run for another seed', async () => {
    const first = scenarioRunJson(await runScenario(scenarios['linkerd-2016'], { scale: 0.05 }));
    const second = scenarioRunJson(await runScenario(scenarios['linkerd-2016'], { scale: 0.05 }));
    assert.equal(first, second);
    const other = scenarioRunJson(await runScenario(scenarios['linkerd-2016'], { scale: 0.05, seed: 2 }));
    assert.notEqual(other, first);
  });
});
