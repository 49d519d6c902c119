import { describeValue } from '../core/errors.js';
import type { Outcome } from '../core/outcome.js';
import type { Call } from './attempt.js';

/**
 * Why an attempt's result could not be classified: the call's classifier (a
 * `call()` option) threw, or returned no Outcome. Left at that, the attempt
 * would never settle: its call would hang, or be charged to the endpoint as
 * a timeout.
 */
export class ClassifierFailure {
  constructor(readonly option: 'options.classify' | 'options.classifyError', readonly thrown: unknown) {}
}

/** The call's Outcome for a response, or why there is none. Allocates nothing when the classifier works. */
export function outcomeOfResponse(call: Call, response: unknown): Outcome | ClassifierFailure {
  try {
    const outcome = call.classifier.response(response);
    return typeof outcome === 'object' && outcome !== null ? outcome : new ClassifierFailure('options.classify', notAnOutcome(outcome));
  } catch (thrown) {
    return new ClassifierFailure('options.classify', thrown);
  }
}

/** The call's Outcome for a failure, or why there is none. Allocates nothing when the classifier works. */
export function outcomeOfError(call: Call, error: unknown): Outcome | ClassifierFailure {
  try {
    const outcome = call.classifier.error(error);
    return typeof outcome === 'object' && outcome !== null ? outcome : new ClassifierFailure('options.classifyError', notAnOutcome(outcome));
  } catch (thrown) {
    return new ClassifierFailure('options.classifyError', thrown);
  }
}

/** What a classifier that returned something other than an Outcome (`undefined`, a string) is reported with. */
function notAnOutcome(value: unknown): TypeError {
  return new TypeError(`returned ${describeValue(value)}, not an Outcome`);
}
