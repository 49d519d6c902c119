import type { Dispatcher } from 'undici';
import { resolveInterceptorOptions, type MeshkitInterceptorOptions } from './options.js';
import { GovernedRouter } from './router.js';

/**
 * meshkit as an undici interceptor, for `agent.compose(...)` (undici 7):
 * requests to a routed origin go through its meshkit client (discovery,
 * balancing, policies, deadline, telemetry) and never reach the composed
 * dispatcher; every other request is passed on untouched.
 *
 * Validates `options` at once: an unknown key or a bad route throws
 * `ERR_INVALID_CONFIG`.
 *
 * @example
 * ```ts
 * import { Agent, setGlobalDispatcher } from 'undici';
 * import { client } from 'meshkit';
 * import { meshkitInterceptor } from 'meshkit/undici';
 *
 * const orders = client('orders').endpoints(['127.0.0.1:8081', '127.0.0.1:8082']).build();
 * setGlobalDispatcher(new Agent().compose(meshkitInterceptor({ routes: { 'http://orders': orders } })));
 * ```
 */
export function meshkitInterceptor(options: MeshkitInterceptorOptions): Dispatcher.DispatcherComposeInterceptor {
  const router = new GovernedRouter(resolveInterceptorOptions(options, 'meshkitInterceptor'));
  return (dispatch) => (opts, handler) => router.dispatch(opts, handler) || dispatch(opts, handler);
}
