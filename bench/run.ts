/**
 * Bench entry point: `node .build/bench/run.js <scenario>` (`npm run bench -- <scenario>`).
 * Scenarios load lazily so one scenario's dependencies never slow another's start.
 */
const SCENARIOS: Readonly<Record<string, { readonly about: string; readonly run: () => Promise<void> }>> = {
  overhead: {
    about: "meshkit's added cost per call, and HTTP req/s and latency against undici, fetch and got",
    run: async () => (await import('./overhead.js')).runOverhead(),
  },
  soak: { about: '1,000,000 calls through the full pipeline: heap after GC, unhandled rejections, timers left, calls/s', run: async () => (await import('./soak.js')).runSoak() },
  balancers: {
    about: 'pick cost (ns) of every balancer at 10, 1,000 and 10,000 endpoints, bytes allocated per pick, heap and timers per endpoint',
    run: async () => (await import('./balancers.js')).runBalancers(),
  },
  sim: {
    about: 'the simulator: 1,000 backends, 100 clients, default stack; a short case and the 1,200,000-call target: calls and events per wall second, simulated/wall, peak heap',
    run: async () => (await import('./sim.js')).runSim(),
  },
};

// After a scenario returns, the process should exit by itself; if something still
// holds it open, say what instead of hanging silently.
const EXIT_WATCHDOG_MS = 5000;

function usage(): string {
  const names = Object.entries(SCENARIOS).map(([name, s]) => `  ${name.padEnd(12)} ${s.about}`);
  return [
    'usage: npm run bench -- <scenario>   (or node .build/bench/run.js <scenario>)',
    '',
    'scenarios:',
    ...names,
    '',
    'environment: BENCH_SECONDS (per cell, default 3), BENCH_ROUNDS (6), BENCH_WARMUP_SECONDS,',
    '  BENCH_CONCURRENCY (1,64), BENCH_PIPELINE_CALLS (100000), BENCH_PIPELINE_ROUNDS (7), BENCH_RESULTS_DIR;',
    '  sim: BENCH_SIM_CASES (short,full; also fleet-scale), BENCH_SIM_SHORT_CALLS (120000), BENCH_SIM_FULL_CALLS (1200000),',
    '  BENCH_SIM_BACKENDS (1000), BENCH_SIM_CLIENTS (100), BENCH_SIM_RATE (2000), BENCH_SIM_SCENARIO_SCALE (1)',
  ].join('\n');
}

async function main(): Promise<void> {
  const name = process.argv[2];
  const scenario = name === undefined ? undefined : SCENARIOS[name];
  if (scenario === undefined) {
    console.error(name === undefined ? 'bench: no scenario given' : `bench: unknown scenario ${JSON.stringify(name)}`);
    console.error(usage());
    process.exitCode = 2;
    return;
  }
  try {
    await scenario.run();
  } catch (error) {
    console.error('bench: crashed:', error);
    process.exitCode = 1;
  }
  setTimeout(() => {
    console.error(`bench: still running ${EXIT_WATCHDOG_MS} ms after the scenario ended; open resources:`,
      process.getActiveResourcesInfo().join(', '));
    process.exit(3);
  }, EXIT_WATCHDOG_MS).unref();
}

await main();
