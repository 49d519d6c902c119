import { describeValue, MeshkitError } from '../core/errors.js';
import type { RejectedEntry } from './resolver.js';

/** How many rejected entries the message spells out; `rejected` always has them all. */
const LISTED = 5;

/**
 * A registry answered, but every entry of its answer was rejected (invalid,
 * or refused by an `endpointFilter`). Discovery treats this as an error, not
 * as "no instances": the client keeps its last good set, turns stale and
 * publishes `discoveryError` with this error; `client.endpoints().lastError`
 * holds it until a good answer arrives. Code `ERR_INVALID_CONFIG`, like each
 * rejected entry's own error.
 */
export class RejectedAnswerError extends MeshkitError {
  /** Where the answer came from (`consul:orders`, `etcd:orders`, ...). */
  readonly source: string;
  /** Every entry of the answer, with why it was left out. */
  readonly rejected: readonly RejectedEntry[];

  constructor(source: string, rejected: readonly RejectedEntry[]) {
    const shown = rejected.slice(0, LISTED).map(({ entry, error }) => `${describeValue(entry)}: ${error.message}`);
    const more = rejected.length > LISTED ? `; and ${rejected.length - LISTED} more` : '';
    super(
      'ERR_INVALID_CONFIG',
      `${source}: every entry of the answer was rejected (${rejected.length}), the last good set stays in use: ${shown.join('; ')}${more}`,
      { source, rejected },
    );
    this.source = source;
    this.rejected = Object.freeze([...rejected]);
  }
}

/** True when an answer had entries but none survived: an error, not an empty set. */
export function everyEntryRejected(endpoints: readonly unknown[], rejected: readonly RejectedEntry[] | undefined): boolean {
  return endpoints.length === 0 && rejected !== undefined && rejected.length > 0;
}
