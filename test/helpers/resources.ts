import { Socket } from 'node:net';
import { activeResources } from './upstream.js';

/**
 * Polls until `process.getActiveResourcesInfo()` (less stdio) equals
 * `expected`, for up to 2 s, then returns it. Without `expected` it returns
 * the list once it is stable, as a baseline. Closing sockets and servers take
 * a moment to leave the list; a leak never does.
 */
export async function settledResources(expected?: readonly string[]): Promise<string[]> {
  let current = activeResources().sort();
  for (let i = 0; i < 40 && (expected === undefined || current.join() !== expected.join()); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    current = activeResources().sort();
    if (expected === undefined && i >= 1) break;
  }
  return current;
}

/** Local ports of client-side sockets still open to any of `ports` (a leak after close()). */
export function clientSocketsTo(ports: ReadonlySet<number>): number[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((h): h is Socket => h instanceof Socket && h.remotePort !== undefined && ports.has(h.remotePort))
    .map((s) => s.localPort ?? 0);
}
