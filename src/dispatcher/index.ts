/**
 * `meshkit/undici`: meshkit behind undici's own seams. A `Dispatcher`
 * ({@link meshkitDispatcher}) to install with `setGlobalDispatcher`, and an
 * interceptor ({@link meshkitInterceptor}) for `agent.compose(...)`: global
 * `fetch`, `undici.request` and every SDK built on them are governed with no
 * change at call sites.
 * @packageDocumentation
 */
export { MeshkitDispatcher, meshkitDispatcher } from './dispatcher.js';
export { meshkitInterceptor } from './interceptor.js';
export type { MeshkitDispatcherOptions, MeshkitInterceptorOptions } from './options.js';
export type { DispatcherRoute, DispatcherRoutes, OriginPredicate } from './routes.js';
