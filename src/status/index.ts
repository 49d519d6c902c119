/**
 * `meshkit/status`: a read-only HTTP handler that serves the state of this
 * process's meshkit clients as JSON and as a live HTML page. Imports nothing
 * beyond Node and meshkit itself. See docs/status-page.md.
 */
export { statusHandler, type StatusHandler } from './handler.js';
export {
  DEFAULT_STATUS_HANDLER, resolveStatusHandler,
  type SnapshotSource, type StatusHandlerOptions, type StatusHandlerSettings,
} from './options.js';
export type { StatusClient, StatusDocument } from './document.js';
export { statusErrorChannel, STATUS_ERROR_CODE, type StatusErrorMessage } from './errors.js';
export type { LatencySample } from './history.js';
export { snapshotAll } from '../client/registry.js';
export type { ClientIdentityStatus, ClientSnapshot, EndpointStatus } from '../client/snapshot.js';
