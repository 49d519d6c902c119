// The three ways the demo calls the fleet. All send GET / and report an outcome;
// none reads more than it must.
import { client, isMeshkitError, roundRobin, type Client } from '../../src/index.js';
import type { Instance } from './fleet.js';
import { outcomeOf, type Outcome } from './load.js';

export interface DemoClient {
  /** One line, for prose and the JSON. */
  readonly label: string;
  /** The same, on two lines, for table headings. */
  readonly heading: readonly [string, string];
  send(): Promise<Outcome>;
  /** Addresses ("host:port") that outlier detection has out of rotation now; empty when it is off. */
  ejected(): readonly string[];
  close(): Promise<void>;
}

/** What most services do today: rotate over the instances with Node's global fetch, no timeout, no retry. */
export function naiveRoundRobin(instances: readonly Instance[]): DemoClient {
  const urls = instances.map((i) => `http://${i.address}/`);
  let next = 0;
  return {
    label: 'naive round robin',
    heading: ['naive', 'round robin'],
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
    ejected: () => [],
    close: async () => {},
  };
}

/** The settings the story is about; the report quotes them. Both meshkit clients use them. */
export const MESHKIT_SETTINGS = {
  perTry: '50ms',
  total: '1s',
  attempts: 3,
  /**
   * Envoy's default, 10 %, would let one endpoint of five out at a time
   * (at least one always may be). 40 % lets both bad ones out, and leaves
   * 3 of 5 (60 %) in rotation, above the 50 % panic threshold below which
   * outlier detection would give up and use every endpoint again.
   */
  maxEjectionPercent: 40,
} as const;

/** meshkit's default `consecutiveGatewayFailures`: the demo leaves it as it is; the report quotes it. */
export const EJECT_AFTER = 5;

function governed(label: string, heading: readonly [string, string], c: Client): DemoClient {
  return {
    label,
    heading,
    async send() {
      try {
        const res = await c.request({ path: '/', method: 'GET' });
        await res.body.dump();
        return String(res.statusCode);
      } catch (err) {
        return isMeshkitError(err) ? err.code : outcomeOf(err);
      }
    },
    ejected: () => c.endpoints().health.filter((h) => h.ejected).map((h) => h.id),
    close: () => c.close(),
  };
}

/** The same rotation as the naive client, governed by meshkit: a per-try timeout and retries on 503s and timeouts. */
export function meshkitRoundRobin(instances: readonly Instance[]): DemoClient {
  const c = client('demo-upstream')
    .endpoints(instances.map((i) => i.address))
    .balancer(roundRobin())
    .timeout({ perTry: MESHKIT_SETTINGS.perTry, total: MESHKIT_SETTINGS.total })
    .retry({ attempts: MESHKIT_SETTINGS.attempts })
    .build();
  return governed('meshkit, round robin', ['meshkit', 'round robin'], c);
}

/**
 * meshkit's default balancer (peak EWMA) with outlier detection, and the same
 * timeout and retry settings: bad instances leave rotation instead of being
 * retried around.
 */
export function meshkitDefaults(instances: readonly Instance[]): DemoClient {
  const c = client('demo-upstream')
    .endpoints(instances.map((i) => i.address))
    .outlierDetection({ maxEjectionPercent: MESHKIT_SETTINGS.maxEjectionPercent })
    .timeout({ perTry: MESHKIT_SETTINGS.perTry, total: MESHKIT_SETTINGS.total })
    .retry({ attempts: MESHKIT_SETTINGS.attempts })
    .build();
  return governed('meshkit, defaults + ejection', ['meshkit', 'defaults + ejection'], c);
}
