import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidConfig } from '../core/errors.js';
import { writeJson } from '../server/responses.js';
import { FORBIDDEN_BODY, type Authorizer } from './authorizer.js';
import type { Identity } from './identity.js';

/** Reads an `identity` option: undefined, or an object with the Identity methods. */
export function readIdentity(value: unknown, option: string): Identity | undefined {
  if (value === undefined) return undefined;
  const ok = typeof value === 'object' && value !== null
    && ['current', 'ready', 'subscribe', 'status'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw invalidConfig(option, 'an Identity such as connectIdentity() or fileIdentity()', value);
  return value as Identity;
}

/** Reads an `authorize` option: an Authorizer, or `false` for none (every verified peer admitted). Default none. */
export function readAuthorizer(value: unknown, option: string): Authorizer | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'object' || value === null || typeof (value as Record<string, unknown>)['authorize'] !== 'function') {
    throw invalidConfig(option, 'an Authorizer such as connectAuthorizer(), or false', value);
  }
  return value as Authorizer;
}

/** Answers a refused caller 403 with the stable body; the reason stays on the server (it may name intentions). */
export function denyRequest(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  writeJson(res, 403, FORBIDDEN_BODY);
}
