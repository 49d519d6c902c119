import { fileURLToPath } from 'node:url';
import { startServedChild, type ServedChild } from '../helpers/served-child.js';

const script = fileURLToPath(new URL('../fixtures/server-instance.js', import.meta.url));

/** A child node process running test/fixtures/server-instance.ts; its JSON stdout lines as events. */
export interface ServedInstance extends ServedChild {
  readonly id: string;
}

/** Starts one instance; `next()` waits 15 s by default. */
export function startInstance(env: { FRAMEWORK: 'express' | 'fastify'; CONSUL_ADDRESS: string; SERVICE: string; ID: string }): ServedInstance {
  return { id: env.ID, ...startServedChild(script, env, `instance ${env.ID}`, 15_000) };
}
