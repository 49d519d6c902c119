// Demo settings from flags, then environment, then defaults, so the smoke test
// can shorten the run (DEMO_REQUESTS=40) and ask for JSON (DEMO_JSON=1).
import { parseArgs } from 'node:util';

export interface DemoOptions {
  readonly requests: number;
  readonly concurrency: number;
  readonly maxSeconds: number;
  readonly json: boolean;
}

export const USAGE = `usage: npm run demo -- [--requests N] [--concurrency N] [--max-seconds N] [--json]
  --requests N      logical requests per client            (env DEMO_REQUESTS, default 300)
  --concurrency N   requests in flight at once              (env DEMO_CONCURRENCY, default 8)
  --max-seconds N   stop starting requests after N seconds  (env DEMO_MAX_SECONDS, default 20)
  --json            also print one JSON line with the results (env DEMO_JSON=1)`;

export class UsageError extends Error {}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function parseOptions(
  argv: readonly string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): DemoOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        requests: { type: 'string' },
        concurrency: { type: 'string' },
        'max-seconds': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help === true) return 'help';
  return {
    requests: positiveInt('--requests', values.requests ?? env['DEMO_REQUESTS'], 300),
    concurrency: positiveInt('--concurrency', values.concurrency ?? env['DEMO_CONCURRENCY'], 8),
    maxSeconds: positiveInt('--max-seconds', values['max-seconds'] ?? env['DEMO_MAX_SECONDS'], 20),
    json: values.json === true || env['DEMO_JSON'] === '1',
  };
}
