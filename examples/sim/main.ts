// Round robin against peak EWMA on one simulated fleet, same seed: prints both
// reports' tables and where the traffic went. Nothing is sent over a network
// and nothing waits for the wall clock: a simulated minute takes about a second.
//
//   npm run compile && node .build/examples/sim/main.js [--seed N] [--seconds S] [--rate R]
import { parseArgs } from 'node:util';
import { formatTable, type SimReport } from '../../src/sim/index.js'; // in your project: from 'meshkit/sim'
import { compareBalancers, DEFAULT_OPTIONS, SLOW_BACKEND, type CompareOptions } from './compare.js';

function positive(text: string | undefined, flag: string, fallback: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${flag} must be a ${integer ? 'positive integer' : 'positive number'}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function readOptions(argv: readonly string[]): CompareOptions {
  const { values } = parseArgs({ args: [...argv], options: { seed: { type: 'string' }, seconds: { type: 'string' }, rate: { type: 'string' } } });
  return {
    seed: positive(values.seed, '--seed', DEFAULT_OPTIONS.seed, true),
    seconds: positive(values.seconds, '--seconds', DEFAULT_OPTIONS.seconds, false),
    rate: positive(values.rate, '--rate', DEFAULT_OPTIONS.rate, false),
  };
}

/** The slow backend's share of the requests that reached a backend. */
function slowShare(report: SimReport): string {
  const total = report.backends.reduce((sum, b) => sum + b.totalRequests, 0);
  const slow = report.backends[SLOW_BACKEND]?.totalRequests ?? 0;
  return `${((slow / Math.max(1, total)) * 100).toFixed(1)} %`;
}

let options: CompareOptions;
try {
  options = readOptions(process.argv.slice(2));
} catch (error) {
  console.error(`examples/sim: ${(error as Error).message}\nusage: node .build/examples/sim/main.js [--seed N] [--seconds S] [--rate R]`);
  process.exit(2);
}
const reports = await compareBalancers(options);
for (const report of reports) console.log(`\n${formatTable(report).trimEnd()}`);
const slowId = reports[0]?.backends[SLOW_BACKEND]?.id ?? 'none';
console.log(`\nShare of the requests that reached a backend, sent to the slow one, ${slowId} (an even share is 8.3 %):`);
for (const report of reports) console.log(`  ${report.scenario.padEnd(12)} ${slowShare(report)}`);
