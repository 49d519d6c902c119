import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TLS_UNVERIFIED_WARNING } from '../../src/index.js';
import { consul } from '../../src/consul/index.js';

describe('turning TLS verification off is said once per process, wherever it is done', () => {
  it('Consul\'s tls.rejectUnauthorized: false emits MESHKIT_TLS_UNVERIFIED once (the transport\'s and health checks\' are tested with them)', async () => {
    const warnings: (Error & { code?: string })[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      consul({ service: 'orders', address: 'https://127.0.0.1:8501', tls: { rejectUnauthorized: false } });
      consul({ service: 'billing', address: 'https://127.0.0.1:8501', tls: { rejectUnauthorized: false } });
      await new Promise((resolve) => setImmediate(resolve));
      const unverified = warnings.filter((w) => w.code === TLS_UNVERIFIED_WARNING);
      assert.equal(unverified.length, 1);
      assert.match(unverified[0]?.message ?? '', /consul\.tls\.rejectUnauthorized/);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
