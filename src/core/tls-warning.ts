/** The code of the process warning emitted when TLS certificate verification is turned off. */
export const TLS_UNVERIFIED_WARNING = 'MESHKIT_TLS_UNVERIFIED';

let warned = false;

/**
 * Emits one process warning (code `MESHKIT_TLS_UNVERIFIED`) the first time
 * any option turns certificate verification off, and none after: like
 * Node's own warning for `NODE_TLS_REJECT_UNAUTHORIZED=0`, it tells the
 * operator that this process accepts any certificate, without repeating for
 * every client or transport built (a factory per client, or per test, would
 * flood the log and bury the first one).
 */
export function warnUnverifiedTls(option: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(
    `meshkit: ${option} is false: TLS certificates are not verified, so connections can be intercepted (warned once per process)`,
    { code: TLS_UNVERIFIED_WARNING },
  );
}
