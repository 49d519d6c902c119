// meshkit demo: the same traffic, without meshkit, with meshkit's timeouts and
// retries alone, and with meshkit's defaults plus outlier ejection.
//
// It starts a fleet of five upstream instances on 127.0.0.1 (three healthy, one
// that answers after ~250 ms, one that answers 503) and sends the same GET traffic
// through three clients:
//   1. naive round robin with Node's global fetch: no timeout, no retry;
//   2. meshkit with round robin over the same instances, a 50 ms per-try timeout,
//      a 1 s deadline and up to 3 attempts: what timeouts and retries alone buy;
//   3. meshkit with its default balancer (peak EWMA) and outlier detection
//      (up to 40 % of the fleet ejected), and the same timeout and retries.
// After an uncounted warm-up per client (cold start is not the story), it prints
// success rate, p50, p99 and attempts per request side by side (attempts are
// counted by the fleet itself), where the requests landed, when instances were
// ejected, and what happened. Everything runs in this process and shuts down
// when it is done.
//
//   npm run demo
//   npm run demo -- --requests 100 --concurrency 4    (or DEMO_REQUESTS=100 ...)
//   DEMO_JSON=1 npm run demo                          (adds one JSON line, for tests)
import { meshkitDefaults, meshkitRoundRobin, naiveRoundRobin, type DemoClient } from './clients.js';
import { startFleet, type Fleet } from './fleet.js';
import { runLoad } from './load.js';
import { parseOptions, USAGE, UsageError, type DemoOptions } from './options.js';
import { comparisonTable, ejectionLines, explanation, perInstanceTable } from './report.js';
import { summarize, type Ejection, type Summary } from './stats.js';

/**
 * Warm-up requests per client, not counted: a cold process spends tens of ms on
 * its first requests (module loading, JIT, connection setup), which would trip a
 * 50 ms per-try timeout on a healthy instance and say nothing about steady state.
 */
function warmupRequests(fleet: Fleet, opts: DemoOptions): number {
  return fleet.instances.length * opts.concurrency;
}

async function measure(fleet: Fleet, c: DemoClient, opts: DemoOptions): Promise<Summary> {
  const nameOf = (address: string): string => fleet.instances.find((i) => i.address === address)?.name ?? address;
  const counts = (): Record<string, number> => Object.fromEntries(fleet.instances.map((i) => [i.name, i.received]));
  let phase: Ejection['phase'] = 'warm-up';
  let done = 0;
  let warmupReceived: Record<string, number> = {};
  const ejections: Ejection[] = [];
  // After each request, note instances that have just left rotation, and how much
  // traffic they had taken from this client by then.
  const send = async (): Promise<string> => {
    const outcome = await c.send();
    done += 1;
    for (const address of c.ejected()) {
      const instance = nameOf(address);
      if (ejections.some((e) => e.instance === instance)) continue;
      const sofar = (warmupReceived[instance] ?? 0) + (fleet.instances.find((i) => i.name === instance)?.received ?? 0);
      ejections.push({ instance, phase, afterRequests: done, instanceReceived: sofar });
    }
    return outcome;
  };

  fleet.resetCounters();
  await runLoad(send, {
    requests: warmupRequests(fleet, opts),
    concurrency: opts.concurrency,
    budgetMs: opts.maxSeconds * 1000,
  });
  warmupReceived = counts();
  fleet.resetCounters();
  phase = 'measured';
  done = 0;
  const samples = await runLoad(send, {
    requests: opts.requests,
    concurrency: opts.concurrency,
    budgetMs: opts.maxSeconds * 1000,
  });
  return summarize(c.label, c.heading, samples, {
    received: counts(),
    warmupReceived,
    ejections,
    ejectedAtEnd: c.ejected().map(nameOf),
  });
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
  for (const make of [naiveRoundRobin, meshkitRoundRobin, meshkitDefaults]) {
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
  const [naive, rr, defaults] = results;
  if (naive === undefined || rr === undefined || defaults === undefined) throw new Error('a run is missing');

  console.log(`\n${comparisonTable(results)}\n`);
  console.log(`${perInstanceTable(fleet.instances, results)}\n`);
  console.log(`${ejectionLines(fleet.instances, defaults)}\n`);
  console.log(`${explanation(fleet.instances, naive, rr, defaults)}\n`);
  if (opts.json) {
    const instances = fleet.instances.map((i) => ({ name: i.name, kind: i.kind }));
    console.log(JSON.stringify({ demo: 'meshkit', instances, naive, meshkitRoundRobin: rr, meshkitDefaults: defaults }));
  }
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
