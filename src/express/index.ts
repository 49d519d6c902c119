/**
 * meshkit for Express 4 and 5 (`meshkit/express`): the inbound context
 * (deadline and trace parent inherited by every meshkit call a handler
 * makes), load shedding, health routes and a `listen()` that wires
 * self-registration and graceful shutdown. The lifecycle, the load shedder
 * and their option types are framework-neutral: import them from
 * `meshkit/server`.
 *
 * ```ts
 * const lifecycle = serverLifecycle({ clients: [orders] });
 * app.use(health(lifecycle));
 * app.use(inbound({ service: 'gateway' }));
 * app.use(shedding());
 * app.get('/orders/:id', async (req, res) => res.json(await (await orders.request({ path: `/v1/${req.params.id}` })).body.json()));
 * await listen(app, { port: 8080, lifecycle, register: { registrar: consul({ service: 'gateway' }), instance: { service: 'gateway' } } });
 * ```
 * @packageDocumentation
 */
export { inbound, type InboundMiddleware } from './inbound.js';
export { shedding, type SheddingMiddleware } from './shedding.js';
export { health } from './health-routes.js';
export { listen, type ListenOptions, type MeshkitServer } from './listen.js';
export type { Middleware } from './middleware.js';
