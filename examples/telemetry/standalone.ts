// Running an example module as a program: `node .build/examples/telemetry/x.js`.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with. */
export function isMain(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

/**
 * Keeps a started example running until SIGINT (Ctrl-C) or SIGTERM, then
 * stops it. The process then ends by itself once everything is closed: a
 * hang here means something was left open. A failing stop exits 1.
 */
export function stopOnSignal(running: { stop(): Promise<void> }, log: (line: string) => void = console.log): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1); // a second Ctrl-C: give up waiting
    stopping = true;
    log(`${signal}: stopping`);
    running.stop().then(
      () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        log('stopped');
      },
      (error: unknown) => {
        console.error('stop failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
