import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { srvEndpointWeights, ZERO_WEIGHT_SHARE } from '../../src/dns/srv-weights.js';

describe('srvEndpointWeights', () => {
  it('keeps positive weights and splits them over a target\'s addresses', () => {
    assert.deepEqual(srvEndpointWeights([{ weight: 10, addresses: 1 }, { weight: 30, addresses: 2 }]), [10, 15]);
  });

  it('gives weight 0 a very small share when others are positive', () => {
    assert.deepEqual(srvEndpointWeights([{ weight: 0, addresses: 1 }, { weight: 5, addresses: 1 }]), [ZERO_WEIGHT_SHARE, 5]);
  });

  it('shares equally when every weight is 0', () => {
    assert.deepEqual(srvEndpointWeights([{ weight: 0, addresses: 1 }, { weight: 0, addresses: 2 }]), [1, 0.5]);
  });
});
