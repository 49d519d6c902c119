import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromUpstream, ToUpstream } from './upstream-messages.js';

export interface UpstreamUsage {
  readonly requests: number;
  readonly cpuMicros: number;
}

/** The parent's handle on the upstream server process. */
export interface Upstream {
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Requests answered and CPU used by the upstream so far. */
  usage(): Promise<UpstreamUsage>;
  /** Stops the server and waits for the process to exit (SIGKILL after a grace period). */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

function waitForMessage<T extends FromUpstream['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromUpstream, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`upstream: no '${type}' message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: FromUpstream): void => {
      if (message.type === type) finish(undefined, message as Extract<FromUpstream, { type: T }>);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`upstream exited (code ${code}, signal ${signal}) before '${type}'`));
    function finish(error: Error | undefined, message?: Extract<FromUpstream, { type: T }>): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error !== undefined) reject(error);
      else resolve(message as Extract<FromUpstream, { type: T }>);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/** Forks the compiled `upstream-process.js` next to this file and waits until it listens; `env` adds to its environment. */
export async function startUpstream(env: Readonly<Record<string, string>> = {}): Promise<Upstream> {
  const child = fork(fileURLToPath(new URL('./upstream-process.js', import.meta.url)), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // Do not inherit --cpu-prof and friends: profiling the bench must not profile the upstream.
    execArgv: [],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const post = (message: ToUpstream): void => {
    if (child.connected) child.send(message);
  };
  let listening: Extract<FromUpstream, { type: 'listening' }>;
  try {
    listening = await waitForMessage(child, 'listening', START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const host = '127.0.0.1';
  return {
    host,
    port: listening.port,
    origin: `http://${host}:${listening.port}`,
    async usage() {
      const reply = waitForMessage(child, 'usage', START_TIMEOUT_MS);
      post({ type: 'usage' });
      const { requests, cpuMicros } = await reply;
      return { requests, cpuMicros };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      post({ type: 'stop' });
      const grace = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(grace);
    },
  };
}
