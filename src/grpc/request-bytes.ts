import type { serialize } from '@grpc/grpc-js';
import { invalidArgument, type MeshkitError } from '../core/errors.js';

/** What grpc-js is given as the serialiser of messages meshkit already serialised. */
export const passBytes: serialize<Buffer> = (bytes: Buffer): Buffer => bytes;

/**
 * The error of a request message the method's `requestSerialize` threw on:
 * `ERR_INVALID_ARGUMENT` naming `argument`, blame `'caller'`, what it threw
 * as `cause`. grpc-js would fail the call locally with INTERNAL, a code that
 * counts against the endpoint, for the caller's malformed message.
 * @internal
 */
export function unserializable(argument: string, thrown: unknown): MeshkitError {
  const why = thrown instanceof Error ? thrown.message : String(thrown);
  return invalidArgument(argument, "a message the method's requestSerialize accepts", why, { cause: thrown });
}

/**
 * Serialises one request message with the method's own serialiser, so that
 * a message it cannot serialise is known to be the caller's before anything
 * is sent. Throws {@link unserializable}'s error naming `argument`.
 * @internal
 */
export function requestBytes<Req>(requestSerialize: serialize<Req>, request: Req, argument: string): Buffer {
  try {
    return requestSerialize(request);
  } catch (thrown) {
    throw unserializable(argument, thrown);
  }
}

/**
 * A serialiser for messages the caller writes itself (a bidi stream): it
 * serialises with `requestSerialize` and remembers what it threw, so the
 * INTERNAL status grpc-js then ends the call with is known to be the
 * caller's doing, not the server's.
 * @internal
 */
export class WatchedSerializer<Req> {
  /** What `requestSerialize` threw on the caller's message; undefined while every message serialised. */
  failure: unknown = undefined;
  /** Whether `requestSerialize` threw on a message. */
  failed = false;

  constructor(private readonly requestSerialize: serialize<Req>) {}

  /** The serialiser to give grpc-js: `requestSerialize`, watched. */
  readonly serialize: serialize<Req> = (request: Req): Buffer => {
    try {
      return this.requestSerialize(request);
    } catch (thrown) {
      this.failed = true;
      this.failure ??= thrown;
      throw thrown; // grpc-js cancels the call with INTERNAL: the caller reads that on its stream
    }
  };
}
