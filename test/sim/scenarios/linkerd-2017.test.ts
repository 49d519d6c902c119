import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario, type Scenario } from '../../../src/sim/index.js';
import { linkerd2017 } from '../../../src/sim/scenarios/linkerd-2017.js';

// Only the two rows this checks, at a quarter of the size: the backend answering 500 on 40 % of requests must be
// taken out by the consecutive row (Linkerd's consecutive failure accrual counts every failed response).
const KEPT = new Set(['none', 'consecutive-5']);
const twoRows: Scenario = {
  ...linkerd2017,
  variants: (linkerd2017.variants ?? []).filter((v) => KEPT.has(v.name)),
  published: (linkerd2017.published ?? []).filter((p) => KEPT.has(p.variant ?? '')),
};

describe('linkerd-2017', () => {
  it('consecutive-5 ejects the backend answering 500s, by the consecutive 5xx rule, and beats no outlier detection', async () => {
    const run = await runScenario(twoRows, { scale: 0.25 });
    const consecutive = run.variants.find((v) => v.name === 'consecutive-5');
    const ejections = consecutive?.report.timelines.ejections.filter((e) => e.ejected) ?? [];
    assert.ok(ejections.length > 0, 'the failing backend was ejected');
    assert.deepEqual([...new Set(ejections.map((e) => e.reason))], ['consecutive-5xx']);
    const successRate = (variant: string): number => run.comparisons.find((r) => r.variant === variant && r.metric === 'successRate')?.meshkitValue as number;
    assert.ok(successRate('consecutive-5') > successRate('none') + 0.02, `consecutive-5 ${successRate('consecutive-5')} vs none ${successRate('none')}`);
  });
});
