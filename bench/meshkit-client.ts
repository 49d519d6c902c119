import { client, roundRobin, undiciTransport } from '../src/index.js';

/** What the bench turns on: every stage of the foundation, so the numbers are the cost a real user pays. */
export const FOUNDATION_STAGES = {
  discovery: 'static endpoints',
  balancer: 'roundRobin()',
  timeout: { perTry: '1s', total: '2s' },
  retry: { attempts: 3 },
} as const;

/** A meshkit client with every foundation stage on; `connections` sets the undici transport's pool size. */
export function buildBenchClient(name: string, endpoints: readonly string[], connections?: number) {
  let builder = client(name)
    .endpoints([...endpoints])
    .balancer(roundRobin())
    .timeout({ perTry: FOUNDATION_STAGES.timeout.perTry, total: FOUNDATION_STAGES.timeout.total })
    .retry({ attempts: FOUNDATION_STAGES.retry.attempts });
  if (connections !== undefined) builder = builder.transport(undiciTransport({ connections }));
  return builder.build();
}

export type BenchClient = ReturnType<typeof buildBenchClient>;
