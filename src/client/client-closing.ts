import { MeshkitError } from '../core/errors.js';

/** What a release registered with `Client.onClose` is told. */
export interface ClientClosing {
  /** When `close()` returns, on the client's clock (`clock.now()`): finish, or cut what is left, by then. */
  readonly closeBy: number;
  /** `ERR_CLIENT_CLOSED`: the error to end what is cut with. */
  readonly reason: MeshkitError;
}

/** The `ERR_CLIENT_CLOSED` of a closed client: calls refused after `close()`, and what its close cuts. */
export function clientClosed(service: string): MeshkitError {
  return new MeshkitError('ERR_CLIENT_CLOSED', `${service}: the client is closed`, { service });
}
