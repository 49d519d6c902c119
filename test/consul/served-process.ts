import { fileURLToPath } from 'node:url';
import { startServedChild, type ServedChild } from '../helpers/served-child.js';

const script = fileURLToPath(new URL('./fixtures/served-instance.js', import.meta.url));

/** A child node process running fixtures/served-instance.ts; its JSON stdout lines as events. */
export type ServedProcess = ServedChild;

/** Starts the served process; `next()` waits 10 s by default. */
export function startServedProcess(env: { CONSUL_ADDRESS: string; SERVICE: string; TTL: string }): ServedProcess {
  return startServedChild(script, env, 'the served process', 10_000);
}
