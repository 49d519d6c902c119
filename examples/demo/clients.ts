// The two ways the demo calls the fleet. Both send GET / and report an outcome;
// neither reads more than it must.
import { client, isMeshkitError } from '../../src/index.js';
import type { Instance } from './fleet.js';
import { outcomeOf, type Outcome } from './load.js';

export interface DemoClient {
  readonly label: string;
  send(): Promise<Outcome>;
  close(): Promise<void>;
}

/** What most services do today: rotate over the instances with Node's global fetch, no timeout, no retry. */
export function naiveRoundRobin(instances: readonly Instance[]): DemoClient {
  const urls = instances.map((i) => `http://${i.address}/`);
  let next = 0;
  return {
    label: 'naive round robin',
    async send() {
      const url = urls[next++ % urls.length] as string;
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        return String(res.status);
      } catch (err) {
        return outcomeOf(err);
      }
    },
    close: async () => {},
  };
}

/** The settings the story is about; the report quotes them. */
export const MESHKIT_SETTINGS = {
  perTry: '50ms',
  total: '1s',
  attempts: 3,
} as const;

/** The same rotation, governed by meshkit: a per-try timeout and retries on 503s and timeouts. */
export function meshkitClient(instances: readonly Instance[]): DemoClient {
  const c = client('demo-upstream')
    .endpoints(instances.map((i) => i.address))
    .timeout({ perTry: MESHKIT_SETTINGS.perTry, total: MESHKIT_SETTINGS.total })
    .retry({ attempts: MESHKIT_SETTINGS.attempts })
    .build();
  return {
    label: 'meshkit',
    async send() {
      try {
        const res = await c.request({ path: '/', method: 'GET' });
        await res.body.dump();
        return String(res.statusCode);
      } catch (err) {
        return isMeshkitError(err) ? err.code : outcomeOf(err);
      }
    },
    close: () => c.close(),
  };
}
