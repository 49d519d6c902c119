import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointStates } from '../../src/balancing/endpoint-states.js';
import { toEndpoint, type Endpoint } from '../../src/core/endpoint.js';
import { endpoints } from './support.js';

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
