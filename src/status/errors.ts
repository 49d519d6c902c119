import * as diagnosticsChannel from 'node:diagnostics_channel';

/** Published on {@link statusErrorChannel} when the status handler could not build its answer. */
export interface StatusErrorMessage {
  /** What was thrown: by the `clients` function or a client's `snapshot()`. */
  readonly error: unknown;
  /** The request path (without its query). */
  readonly path: string;
}

/**
 * `meshkit:status:error`: each request the status handler answered with a
 * 500, with the error. The response itself says only "status unavailable":
 * an error message can carry addresses, tokens or stack details, and the page
 * may be reachable by more people than the logs are.
 */
export const statusErrorChannel = diagnosticsChannel.channel('meshkit:status:error');

/** The warning code of the one process warning a handler emits for its first failure. */
export const STATUS_ERROR_CODE = 'MESHKIT_STATUS_ERROR';

/**
 * Reports a failure of one handler: on {@link statusErrorChannel} every
 * time, and as a process warning the first time (so it is in the logs even
 * when nobody subscribed), never in the response.
 * @returns a reporter that remembers whether it warned
 */
export function statusErrorReporter(): (error: unknown, path: string) => void {
  let warned = false;
  return (error, path) => {
    if (statusErrorChannel.hasSubscribers) {
      const message: StatusErrorMessage = { error, path };
      statusErrorChannel.publish(message);
    }
    if (warned) return;
    warned = true;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.emitWarning(`meshkit: the status handler answered 500 (warned once; every failure is on meshkit:status:error): ${detail}`, {
      code: STATUS_ERROR_CODE,
    });
  };
}
