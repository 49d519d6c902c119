import { spawn, type ChildProcess } from 'node:child_process';

/** A child node process whose stdout is JSON lines, read as events (e.g. a fixture server that registers in Consul). */
export interface ServedChild {
  readonly child: ChildProcess;
  /** Every JSON line printed so far, in order. */
  readonly events: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the first event named `name` (rejects when the child exits first, or after `limitMs`). */
  next(name: string, limitMs?: number): Promise<Record<string, unknown>>;
  /** stderr so far, plus any stdout line that was not JSON. */
  stderr(): string;
}

/**
 * Runs `script` with `process.execPath` and `env` added to this process's
 * environment. `label` names the child in error messages ("instance a-1");
 * `limitMs` is the default wait of `next()`.
 */
export function startServedChild(script: string, env: Record<string, string>, label: string, limitMs: number): ServedChild {
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
  const defaultLimitMs = limitMs;
  return {
    child, events, exited,
    stderr: () => err,
    async next(name, limitMs = defaultLimitMs) {
      const started = Date.now();
      for (;;) {
        const found = events.find((e) => e['event'] === name);
        if (found !== undefined) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${label} exited before '${name}': ${err}`);
        if (Date.now() - started > limitMs) throw new Error(`no '${name}' from ${label} within ${limitMs} ms: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
