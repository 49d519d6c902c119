import type { Socket } from 'node:net';
import type { AuthorizationDecision, Authorizer } from './authorizer.js';
import { peerOf, type Peer } from './peer.js';
import { markPeerOnSpan } from './span-peer.js';

/** What a handler learns about its caller (`req.meshkit`). */
export interface MeshkitRequestInfo {
  /** The caller's service name from its verified certificate (or its whole SPIFFE ID when not Consul-style). */
  readonly peer: string;
  /** The caller's verified certificate facts. */
  readonly peerIdentity: Peer;
}

declare module 'node:http' {
  interface IncomingMessage {
    /** The caller's verified identity, on servers listening with `identity` (`meshkit/express` `listen`, `meshkit/fastify`). */
    meshkit?: MeshkitRequestInfo;
  }
}

const NO_PEER: AuthorizationDecision = Object.freeze({ allowed: false, reason: 'no verified client certificate with a SPIFFE ID' });

/**
 * Admits one inbound request on an mTLS socket: reads the verified peer,
 * asks the authorizer (when there is one), and calls `admit` with what the
 * handler gets, or `deny` with the decision. An authorizer that throws or
 * rejects denies (fail closed). Sets `peer.service` on the active span.
 */
export function admitRequest(socket: Socket, authorizer: Authorizer | undefined,
  admit: (info: MeshkitRequestInfo) => void, deny: (decision: AuthorizationDecision) => void): void {
  const peer = peerOf(socket);
  if (peer === undefined) {
    deny(NO_PEER);
    return;
  }
  const info: MeshkitRequestInfo = Object.freeze({ peer: peer.service ?? peer.spiffeId, peerIdentity: peer });
  markPeerOnSpan(info.peer);
  if (authorizer === undefined) {
    admit(info);
    return;
  }
  let decision: AuthorizationDecision | Promise<AuthorizationDecision>;
  try {
    decision = authorizer.authorize(peer);
  } catch (error) {
    deny({ allowed: false, reason: `the authorizer failed: ${(error as Error)?.message}` });
    return;
  }
  const settle = (d: AuthorizationDecision): void => (d.allowed === true ? admit(info) : deny(d));
  if (typeof (decision as Promise<AuthorizationDecision>).then === 'function') {
    (decision as Promise<AuthorizationDecision>).then(settle, (error: unknown) => deny({ allowed: false, reason: `the authorizer failed: ${(error as Error)?.message}` }));
  } else {
    settle(decision as AuthorizationDecision);
  }
}
