// Thrift through meshkit: `npm run compile && node .build/examples/thrift/main.js`.
// Starts two Inventory servers on 127.0.0.1 and lists a third endpoint where nothing
// listens: meshkit spreads the calls, moves off the dead endpoint on a refused
// connection, passes the remaining deadline along, and reports OutOfCatalog as the answer it is.
import { client, roundRobin } from '../../src/index.js'; // in your project: from 'meshkit'
import { closedPortForExample } from './closed-port.js';
import { governedInventory } from './governed-inventory.js';
import { OutOfCatalog } from './inventory.js';
import { startInventoryServer } from './server.js';

const servers = [await startInventoryServer(), await startInventoryServer()];
const dead = `127.0.0.1:${await closedPortForExample()}`;

const inventory = client('inventory')
  .endpoints([dead, ...servers.map((server) => server.address)])
  .balancer(roundRobin())
  .timeout({ perTry: '500ms', total: '2s' })
  .build();
const api = governedInventory(inventory);

try {
  for (let i = 0; i < 4; i++) {
    const level = await api.getStock('sku-1');
    const port = level.servedBy.split(':')[1] ?? '?';
    console.log(`sku-1: ${level.available} available (served by :${port === String(servers[0]?.port) ? 'a' : 'b'})`);
  }
  try {
    await api.getStock('sku-404');
  } catch (error) {
    if (!(error instanceof OutOfCatalog)) throw error;
    console.log(`sku-404: ${error.message}`);
  }
  console.log(`deadlines sent: ${servers.flatMap((server) => server.deadlines).every((ms) => ms > 0 && ms <= 2000) ? 'all within 2s' : 'unexpected'}`);
} finally {
  await inventory.close();
  await Promise.all(servers.map((server) => server.close()));
}
