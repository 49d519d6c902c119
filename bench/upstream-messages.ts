/** The IPC protocol between the bench (parent) and its upstream server process (child). */

export type ToUpstream = { readonly type: 'usage' } | { readonly type: 'stop' };

export type FromUpstream =
  | { readonly type: 'listening'; readonly port: number }
  /** Totals since start: requests answered and CPU time (user + system) in microseconds. */
  | { readonly type: 'usage'; readonly requests: number; readonly cpuMicros: number };
