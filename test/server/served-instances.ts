import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../fixtures/server-instance.js', import.meta.url));

/** A child node process running test/fixtures/server-instance.ts; its JSON stdout lines as events. */
export interface ServedInstance {
  readonly id: string;
  readonly child: ChildProcess;
  readonly events: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for the first event named `name` (rejects after `limitMs`). */
  next(name: string, limitMs?: number): Promise<Record<string, unknown>>;
  stderr(): string;
}

export function startInstance(env: { FRAMEWORK: 'express' | 'fastify'; CONSUL_ADDRESS: string; SERVICE: string; ID: string }): ServedInstance {
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
    id: env.ID, child, events, exited,
    stderr: () => err,
    async next(name, limitMs = 15_000) {
      const started = Date.now();
      for (;;) {
        const found = events.find((e) => e['event'] === name);
        if (found !== undefined) return found;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`instance ${env.ID} exited before '${name}': ${err}`);
        if (Date.now() - started > limitMs) throw new Error(`no '${name}' from instance ${env.ID} within ${limitMs} ms: ${err}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}
