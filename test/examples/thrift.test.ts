// examples/thrift: the hand-written Inventory service called through client.call against real
// thrift servers on 127.0.0.1, and a smoke test of the runnable example.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it, test } from 'node:test';
import { client, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import { governedInventory } from '../../examples/thrift/governed-inventory.js';
import { OutOfCatalog } from '../../examples/thrift/inventory.js';
import { startInventoryServer, type InventoryServer } from '../../examples/thrift/server.js';
import { closedPort } from '../helpers/upstream.js';

describe('examples/thrift', () => {
  let servers: InventoryServer[];
  let inventory: Client;
  let api: ReturnType<typeof governedInventory>;

  before(async () => {
    servers = [await startInventoryServer(), await startInventoryServer()];
    inventory = client('inventory-test')
      .endpoints([`127.0.0.1:${await closedPort()}`, ...servers.map((s) => s.address)])
      .balancer(roundRobin())
      .retry({ attempts: 3, backoff: { base: '1ms', cap: '2ms' }, budget: false })
      .build();
    api = governedInventory(inventory);
  });
  after(async () => {
    await inventory.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('spreads calls over the live servers and moves off a refused connection', async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const level = await api.getStock('sku-1', { timeout: '2s' });
      assert.deepEqual([level.sku, level.available], ['sku-1', 12]);
      servedBy.add(level.servedBy);
    }
    assert.deepEqual([...servedBy].sort(), servers.map((s) => s.address).sort());
    // One connection per live endpoint; the dead one holds none.
    assert.equal(api.connections.size, 2);
    for (const deadline of servers.flatMap((s) => s.deadlines)) assert.ok(deadline > 0 && deadline <= 2000, `deadline ${deadline}`);
  });

  it('returns the service exception as the answer, without retrying it', async () => {
    const before = servers[0]!.deadlines.length + servers[1]!.deadlines.length;
    await assert.rejects(api.getStock('sku-404'), (error: unknown) => error instanceof OutOfCatalog && error.sku === 'sku-404');
    assert.equal(servers[0]!.deadlines.length + servers[1]!.deadlines.length, before + 1);
  });

  it('fails with ERR_DEADLINE_EXCEEDED when the server is slower than the deadline', async () => {
    for (const server of servers) server.delayMs = 1000;
    try {
      await assert.rejects(api.getStock('sku-1', { timeout: '150ms' }), (error: unknown) => isMeshkitError(error, 'ERR_DEADLINE_EXCEEDED'));
      const sent = servers.flatMap((s) => s.deadlines).at(-1);
      assert.ok(sent !== undefined && sent <= 150, `sent ${sent}`);
    } finally {
      for (const server of servers) server.delayMs = 0;
    }
  });

  it('closes its connections when the meshkit client closes', async () => {
    const c = client('inventory-close').endpoints(servers.map((s) => s.address)).build();
    const local = governedInventory(c);
    await local.getStock('sku-2');
    assert.ok(local.connections.size >= 1);
    await c.close();
    assert.equal(local.connections.size, 0);
  });
});

test('the thrift example runs, prints its results and exits 0', async () => {
  const main = fileURLToPath(new URL('../../examples/thrift/main.js', import.meta.url));
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [main], { timeout: 30_000 });
  assert.equal(stderr, '');
  assert.match(stdout, /^sku-1: 12 available \(served by :[ab]\)$/m);
  assert.match(stdout, /^sku-404: sku sku-404 is not in the catalog$/m);
  assert.match(stdout, /^deadlines sent: all within 2s$/m);
});
