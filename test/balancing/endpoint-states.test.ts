import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EndpointStates } from '../../src/balancing/endpoint-states.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { endpoints } from './support.js';
import { countedEndpoint } from '../helpers/counted-endpoint.js';

describe('EndpointStates', () => {
  it('keeps state by id across new objects, drops it (once, through the drop hook) when the endpoint leaves', () => {
    const dropped: string[] = [];
    let created = 0;
    const states = new EndpointStates((e) => ({ id: e.id, n: created++ }), (s) => dropped.push(s.id));
    const [a, b, c] = endpoints(3) as [Endpoint, Endpoint, Endpoint];
    const first = states.sync([a, b]);
    const again = states.sync([toEndpoint(a.id, 'e'), c]);
    assert.equal(again[0], first[0], 'same id, new object: same state');
    assert.deepEqual(dropped, [b.id]);
    assert.equal(states.get(b.id), undefined);
    states.sync([c]);
    states.sync([c]);
    assert.deepEqual(dropped, [b.id, a.id], 'each dropped once');
    assert.equal(states.size, 1);
    assert.equal(created, 3);
  });

  it('gives duplicates of one id one state', () => {
    const states = new EndpointStates((e) => ({ id: e.id }));
    const a = endpoints(1)[0] as Endpoint;
    const aligned = states.sync([a, toEndpoint(a.id, 'e')]);
    assert.equal(aligned[0], aligned[1]);
  });
});

describe('EndpointStates: a sync of a set that barely changed', () => {
  it('reads the ids of the endpoints that changed only, not of the whole set', () => {
    const counter = { reads: 0 };
    const fleet = endpoints(1000).map((e) => countedEndpoint(e, counter));
    const states = new EndpointStates((e) => ({ id: e.id }));
    states.sync(fleet);
    const leaving = fleet[400] as Endpoint;
    counter.reads = 0;
    states.sync(fleet.filter((e) => e !== leaving)); // one out
    states.sync([...fleet.filter((e) => e !== leaving), leaving]); // back, at the end
    assert.ok(counter.reads <= 6, `${counter.reads} id reads for two one-endpoint changes of a 1,000-endpoint set`);
    assert.equal(states.size, 1000);
  });
});

describe('EndpointStates: any sequence of sets', () => {
  it('keeps one state per id while the id stays, creates it when it arrives, drops it once (in the last set\'s order) when it leaves', () => {
    const pool = endpoints(8);
    // A set: ids from the pool in any order, repeats allowed, each as the pool's object or a new one.
    const set = fc.array(fc.tuple(fc.nat(7), fc.boolean()), { maxLength: 12 })
      .map((picks) => picks.map(([i, fresh]) => (fresh ? toEndpoint((pool[i] as Endpoint).id, 'e') : pool[i] as Endpoint)));
    fc.assert(fc.property(fc.array(set, { minLength: 1, maxLength: 12 }), (sets) => {
      const dropped: string[] = [];
      const renewed: string[] = [];
      const states = new EndpointStates((e) => ({ id: e.id, endpoint: e }), (s) => dropped.push(s.id), (s, e) => {
        s.endpoint = e;
        renewed.push(e.id);
      });
      let model = new Map<string, { id: string; endpoint: Endpoint }>();
      let previous: readonly Endpoint[] = [];
      for (const next of sets) {
        dropped.length = 0;
        const aligned = states.sync(next);
        const expected = new Map<string, { id: string; endpoint: Endpoint }>();
        next.forEach((e, i) => {
          const state = expected.get(e.id) ?? model.get(e.id) ?? aligned[i];
          expected.set(e.id, state as { id: string; endpoint: Endpoint });
          assert.equal(aligned[i], state, `index ${i} (${e.id}) has its id's state`);
        });
        const gone = [...new Set(previous.map((e) => e.id))].filter((id) => !expected.has(id));
        assert.deepEqual(dropped, gone, 'each id that left dropped once, in the order of the last set');
        for (const [id, state] of expected) {
          assert.equal(states.get(id), state);
          assert.equal(states.byId.get(id), state);
          const last = next.findLast((e) => e.id === id);
          assert.equal(state.endpoint, last, `${id} follows its last object`);
        }
        assert.equal(states.size, expected.size);
        assert.equal(states.byId.size, expected.size);
        for (const e of pool) assert.equal(states.has(e.id), expected.has(e.id));
        model = expected;
        previous = next;
      }
    }), { numRuns: 300 });
  });
});
