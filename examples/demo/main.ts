// meshkit demo: the same traffic, with and without meshkit.
//
// It starts a fleet of five upstream instances on 127.0.0.1 (three healthy, one
// that answers after ~250 ms, one that answers 503) and sends the same GET traffic
// through two clients:
//   1. naive round robin with Node's global fetch: no timeout, no retry;
//   2. a meshkit client over the same instances with a 50 ms per-try timeout, a
//      1 s deadline and up to 3 attempts.
// After an uncounted warm-up (cold start is not the story), it prints success
// rate, p50, p99 and attempts per request side by side (attempts are counted by
// the fleet itself), where the requests landed, and what happened. Everything
// runs in this process and shuts down when it is done.
//
//   npm run demo
//   npm run demo -- --requests 100 --concurrency 4    (or DEMO_REQUESTS=100 ...)
//   DEMO_JSON=1 npm run demo                          (adds one JSON line, for tests)
import { meshkitClient, naiveRoundRobin, type DemoClient } from './clients.js';
import { startFleet, type Fleet } from './fleet.js';
import { runLoad } from './load.js';
import { parseOptions, USAGE, UsageError, type DemoOptions } from './options.js';
import { comparisonTable, explanation, perInstanceTable } from './report.js';
import { summarize, type Summary } from './stats.js';

/**
 * Warm-up requests per client, not counted: a cold process spends tens of ms on
 * its first requests (module loading, JIT, connection setup), which would trip a
 * 50 ms per-try timeout on a healthy instance and say nothing about steady state.
 */
function warmupRequests(fleet: Fleet, opts: DemoOptions): number {
  return fleet.instances.length * opts.concurrency;
}

async function measure(fleet: Fleet, c: DemoClient, opts: DemoOptions): Promise<Summary> {
  await runLoad(() => c.send(), {
    requests: warmupRequests(fleet, opts),
    concurrency: opts.concurrency,
    budgetMs: opts.maxSeconds * 1000,
  });
  fleet.resetCounters();
  const samples = await runLoad(() => c.send(), {
    requests: opts.requests,
    concurrency: opts.concurrency,
    budgetMs: opts.maxSeconds * 1000,
  });
  const received = Object.fromEntries(fleet.instances.map((i) => [i.name, i.received]));
  return summarize(c.label, samples, received);
}

async function demo(opts: DemoOptions): Promise<void> {
  await using fleet = await startFleet();
  console.log('fleet:');
  for (const i of fleet.instances) console.log(`  ${i.name.padEnd(10)} ${i.kind.padEnd(8)} ${i.address}`);
  console.log(
    `\nsending ${opts.requests} GET requests through each client, ${opts.concurrency} at a time` +
      ` (after ${warmupRequests(fleet, opts)} warm-up requests that are not counted)\n`,
  );

  const results: Summary[] = [];
  for (const make of [naiveRoundRobin, meshkitClient]) {
    const c = make(fleet.instances);
    try {
      process.stdout.write(`  ${c.label} ... `);
      const s = await measure(fleet, c, opts);
      console.log(`done (${s.requests} requests)`);
      results.push(s);
    } finally {
      await c.close();
    }
  }
  const [naive, mesh] = results;
  if (naive === undefined || mesh === undefined) throw new Error('a run is missing');

  console.log(`\n${comparisonTable(naive, mesh)}\n`);
  console.log(`${perInstanceTable(fleet.instances, naive, mesh)}\n`);
  console.log(`${explanation(fleet.instances, naive, mesh)}\n`);
  if (opts.json) console.log(JSON.stringify({ demo: 'meshkit', naive, meshkit: mesh }));
}

async function main(): Promise<void> {
  let opts: DemoOptions | 'help';
  try {
    opts = parseOptions();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (opts === 'help') {
    console.log(USAGE);
    return;
  }
  await demo(opts);
}

// No process.exit(): the demo must end because everything it opened is closed.
main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
