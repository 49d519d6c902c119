/**
 * How runScenario counts user requests: what the user would see, including
 * the body (a response whose body never arrives is not a success).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runScenario } from '../../src/sim/run-scenario.js';
import type { Scenario, ScenarioClient } from '../../src/sim/scenario-types.js';

function edge(service: string, total: string): ScenarioClient {
  return { name: 'edge', service, stack: { retry: false, timeout: { total } }, load: { type: 'open', rate: 20, duration: '2s' } };
}

function stalling(handlerTier: boolean): Scenario {
  return {
    name: 'stalled-bodies',
    description: 'every body stalls',
    duration: '5s',
    services: [
      ...(handlerTier ? [{ name: 'front', instances: 1, behaviour: { latency: 1 }, handler: { call: 'front-to-api' } }] : []),
      { name: 'api', instances: 2, behaviour: { latency: 2, stallRate: 1 } },
    ],
    clients: handlerTier ? [edge('front', '2s'), { name: 'front-to-api', service: 'api', stack: { retry: false, timeout: { total: '500ms' } } }] : [edge('api', '500ms')],
  };
}

describe('runScenario user requests', () => {
  it('fails a user request whose response body never arrives', async () => {
    const run = await runScenario(stalling(false));
    const edge = run.variants[0]?.report.clients.find((c) => c.name === 'edge');
    assert.ok(edge !== undefined && edge.userRequests > 10, `user requests: ${edge?.userRequests}`);
    assert.equal(edge.succeeded, 0);
    assert.equal(edge.successRate, 0);
  });

  it("fails a tier's answer when its downstream body never arrives", async () => {
    const run = await runScenario(stalling(true));
    const edge = run.variants[0]?.report.clients.find((c) => c.name === 'edge');
    assert.ok(edge !== undefined && edge.userRequests > 10, `user requests: ${edge?.userRequests}`);
    assert.equal(edge.succeeded, 0);
    assert.deepEqual(Object.keys(edge.errors), ['HTTP_503']);
  });
});
