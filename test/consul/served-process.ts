import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/served-instance.js', import.meta.url));

/** A child node process running fixtures/served-instance.ts; its JSON stdout lines as events. */
export interface ServedProcess {
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the first event named `name` (rejects after `limitMs`). */
  next(name: string, limitMs?: number): Promise<Record<string, unknown>>;
  stderr(): string;
}

export function startServedProcess(env: { CONSUL_ADDRESS: string; SERVICE: string; TTL: string }): ServedProcess {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let err = '';
  let buffered = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        err += `${line}\n`;
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child, events, exited,
    stderr: () => err,
    async next(name, limitMs = 10_000) {
      const started = Date.now();
      for (;;) {
        const found = events.find((e) => e['event'] === name);
        if (found !== undefined) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`served process exited before '${name}': ${err}`);
        if (Date.now() - started > limitMs) throw new Error(`no '${name}' from the served process within ${limitMs} ms: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
