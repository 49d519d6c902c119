import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUN_JS = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

/** How a compiled bench run ended: its exit code and everything it printed. */
export interface BenchExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled bench (`bench/run.js args...`) in a child process with `env` added to this one's. */
export function runBench(args: readonly string[], env: Readonly<Record<string, string>>): Promise<BenchExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN_JS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
