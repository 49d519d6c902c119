// Smoke test for examples/quick-start.ts: it runs, prints the response, and exits by itself.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as assert from 'node:assert/strict';
import { test } from 'node:test';

const run = promisify(execFile);
const quickStart = fileURLToPath(new URL('../../examples/quick-start.js', import.meta.url));

test('quick start: makes one request through meshkit, prints it and exits 0', async () => {
  // Rejects on a non-zero exit or if the process does not end within the timeout.
  const { stdout, stderr } = await run(process.execPath, [quickStart], { timeout: 30_000 });
  assert.equal(stderr, '');
  assert.match(stdout, /^200 \{ hello: 'world', path: '\/v1\/orders\/42' \}$/m);
});
