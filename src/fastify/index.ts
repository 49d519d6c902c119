/**
 * meshkit for Fastify 5 (`meshkit/fastify`): a plugin that gives every route
 * the inbound context (deadline and trace parent inherited by each meshkit
 * call a handler makes), load shedding, health routes, self-registration and
 * graceful shutdown. The lifecycle, the load shedder and their option
 * types are framework-neutral: import them from `meshkit/server`.
 *
 * ```ts
 * await app.register(meshkit, {
 *   service: 'orders',
 *   shedding: {},
 *   lifecycle: { clients: [payments] },
 *   register: { registrar: consul({ service: 'orders' }), instance: { service: 'orders' } },
 * });
 * await app.listen({ port: 8080, host: '127.0.0.1' });
 * ```
 * @packageDocumentation
 */
import './options.js';

export { meshkit, meshkit as default } from './plugin.js';
export type { MeshkitFastify, MeshkitFastifyOptions } from './options.js';
