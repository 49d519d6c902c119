import type { TestContext } from 'node:test';

/**
 * Decides what a test does when a real server it needs (Consul, etcd, bind9)
 * cannot be found: in CI (`CI` set) it fails, because a skipped integration
 * test would hide a broken setup; locally it skips with a loud message saying
 * how to get the server.
 */
export function serverMissing(t: TestContext, server: string, howToGet: string, cause?: unknown): void {
  const message = `${server} is not available (${howToGet})${cause instanceof Error ? `: ${cause.message}` : ''}`;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false') {
    throw new Error(`CI needs ${message}`);
  }
  console.warn(`\n!!! SKIPPING: ${message}\n`);
  // Reason: a developer machine without this server (CI never gets here; it throws above).
  t.skip(message);
}
