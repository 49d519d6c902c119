import { Agent, type Dispatcher } from 'undici';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';
import { resolveRoutes, type DispatcherRoutes, type RouteTable } from './routes.js';
import type { meshkitDispatcher } from './dispatcher.js';
import type { meshkitInterceptor } from './interceptor.js';

/** Options of {@link meshkitInterceptor}. */
export interface MeshkitInterceptorOptions {
  /** Which origins are governed, and by which client. Required; see {@link DispatcherRoutes}. */
  readonly routes: DispatcherRoutes;
}

/** Options of {@link meshkitDispatcher}. */
export interface MeshkitDispatcherOptions extends MeshkitInterceptorOptions {
  /**
   * Where requests to every other origin go, untouched. Default: undici's
   * global dispatcher as it is when the dispatcher is made (the one
   * `setGlobalDispatcher` last set, which global `fetch` on Node 20 and 24
   * shares), or a new undici `Agent` when none was set.
   */
  readonly fallback?: Dispatcher;
}

/** Where `setGlobalDispatcher` keeps the global dispatcher, in every undici since 5 and in Node's bundled one. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** The global dispatcher now, without installing one as undici's `getGlobalDispatcher()` would. */
function currentGlobalDispatcher(): Dispatcher {
  const current = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER];
  return isDispatcher(current) ? current : new Agent();
}

function isDispatcher(value: unknown): value is Dispatcher {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Dispatcher>).dispatch === 'function';
}

/** Validates {@link meshkitInterceptor}'s options (errors name `option.<key>`) and builds its route table. */
export function resolveInterceptorOptions(options: unknown, option: string): RouteTable {
  const checked = checkOptions(options, option, ['routes']);
  return resolveRoutes(checked['routes'], `${option}.routes`);
}

/** Validates {@link meshkitDispatcher}'s options (errors name `option.<key>`): its route table and its fallback, resolved now. */
export function resolveDispatcherOptions(options: unknown, option: string): { routes: RouteTable; fallback: Dispatcher } {
  const checked = checkOptions(options, option, ['routes', 'fallback']);
  const routes = resolveRoutes(checked['routes'], `${option}.routes`);
  const fallback = checked['fallback'];
  if (fallback !== undefined && !isDispatcher(fallback)) {
    throw invalidConfig(`${option}.fallback`, 'an undici Dispatcher (an Agent, a Pool, ...)', fallback);
  }
  return { routes, fallback: fallback ?? currentGlobalDispatcher() };
}
