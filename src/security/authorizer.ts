import type { Peer } from './peer.js';

/** Whether a caller may call this service, and why. */
export interface AuthorizationDecision {
  readonly allowed: boolean;
  /** Why (the matched intention, "authorizer unavailable", ...): logged, never sent to the caller. */
  readonly reason: string;
}

/**
 * Decides whether a verified peer may call this service (`connectAuthorizer`
 * asks Consul's intentions). A decision may come synchronously (from a
 * cache), so the common case costs no promise.
 */
export interface Authorizer {
  authorize(peer: Peer): AuthorizationDecision | Promise<AuthorizationDecision>;
  /** Releases connections and caches. */
  close?(): void | Promise<void>;
}

/** The body of the 403 a refused caller gets; stable: match on `code`. */
export const FORBIDDEN_BODY = Object.freeze({ error: 'forbidden', code: 'ERR_FORBIDDEN' });
