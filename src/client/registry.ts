import type { ClientSnapshot } from './snapshot.js';

/** What the registry needs of a client. */
export interface RegisteredClient {
  readonly name: string;
  snapshot(): ClientSnapshot;
}

/** Clients built and not yet closed, in build order: the process-wide view behind `snapshotAll()`. */
const live = new Set<RegisteredClient>();

/** @internal The client registers itself when built. */
export function registerClient(client: RegisteredClient): void {
  live.add(client);
}

/** @internal The client leaves when close() starts. */
export function unregisterClient(client: RegisteredClient): void {
  live.delete(client);
}

/** Snapshots of every client built and not yet closed in this process, in build order (for a status page). */
export function snapshotAll(): ClientSnapshot[] {
  return [...live].map((client) => client.snapshot());
}
