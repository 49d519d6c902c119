/**
 * fileIdentity's first load: ready() waits a bounded time (readyTimeout) for
 * a usable set of files, which an agent may write just after start, then
 * rejects with a typed error carrying the last load error; close() rejects a
 * pending ready() with ERR_CLIENT_CLOSED.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileIdentity, isMeshkitError } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import { meshLeaf } from '../helpers/identity.js';
import { createCertificateAuthority } from '../helpers/tls.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Paths in a fresh directory; the files are written by `write()` (renamed into place). */
function paths(): { files: { cert: string; key: string; ca: string }; write(ca: ReturnType<typeof createCertificateAuthority>): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meshkit-ready-'));
  dirs.push(dir);
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
  return {
    files,
    write(ca) {
      const leaf = meshLeaf(ca, 'web');
      for (const [name, text] of [['cert', leaf.cert], ['key', leaf.key], ['ca', ca.cert]] as const) {
        writeFileSync(`${files[name]}.tmp`, text);
        renameSync(`${files[name]}.tmp`, files[name]);
      }
    },
  };
}

const settled = <T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown } | 'pending'> =>
  Promise.race([promise.then((value) => ({ value }), (error: unknown) => ({ error })), new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), 50))]);

describe('fileIdentity: the first load', () => {
  const ca = createCertificateAuthority('ready CA');

  it('a wrong path: ready() rejects after readyTimeout with ERR_PEER_IDENTITY (not-loaded, blame local), the fs error as cause', async (t) => {
    const identity = fileIdentity({ cert: '/nonexistent/meshkit/tls.crt', key: '/nonexistent/meshkit/tls.key', ca: '/nonexistent/meshkit/ca.crt', interval: '20ms', readyTimeout: '200ms' });
    t.after(() => identity.close());
    const error = await identity.ready().then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_PEER_IDENTITY'), `expected ERR_PEER_IDENTITY, got ${String(error)}`);
    assert.equal(error.blame, 'local');
    assert.equal(error.details['reason'], 'not-loaded');
    assert.equal(error.details['cert'], '/nonexistent/meshkit/tls.crt');
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOENT');
    assert.match(error.message, /fileIdentity\(\/nonexistent\/meshkit\/tls\.crt\): no usable identity within readyTimeout 200ms: ENOENT/);
  });

  it('waits 30 s by default (on the injected clock), then rejects', async (t) => {
    const clock = new VirtualClock();
    const identity = fileIdentity({ cert: '/nonexistent/a.crt', key: '/nonexistent/a.key', ca: '/nonexistent/ca.crt', clock });
    t.after(() => identity.close());
    const ready = identity.ready();
    await clock.advance(29_000);
    assert.equal(await settled(ready), 'pending');
    await clock.advance(1_000);
    const outcome = await settled(ready);
    assert.ok(outcome !== 'pending' && isMeshkitError(outcome.error, 'ERR_PEER_IDENTITY'), `got ${JSON.stringify(outcome)}`);
  });

  it('files written after the start, within readyTimeout, are loaded; so are files written after it gave up', async (t) => {
    const early = paths();
    const waiting = fileIdentity({ ...early.files, interval: '20ms', readyTimeout: '5s' });
    t.after(() => waiting.close());
    const ready = waiting.ready();
    await new Promise((resolve) => setTimeout(resolve, 100));
    early.write(ca);
    assert.equal((await ready).spiffeId.service, 'web');

    const late = paths();
    const gaveUp = fileIdentity({ ...late.files, interval: '20ms', readyTimeout: '50ms' });
    t.after(() => gaveUp.close());
    await assert.rejects(gaveUp.ready(), (e: unknown) => isMeshkitError(e, 'ERR_PEER_IDENTITY'));
    const updated = new Promise<void>((resolve) => gaveUp.subscribe((event) => event.type === 'updated' && resolve()));
    // The polling timers do not hold the process open (a server would): this test does.
    const hold = setInterval(() => undefined, 1000);
    late.write(ca);
    await updated.finally(() => clearInterval(hold));
    assert.equal(gaveUp.current()?.spiffeId.service, 'web');
    assert.equal(gaveUp.status().stale, false);
  });

  it('close() rejects a pending ready() with ERR_CLIENT_CLOSED', async () => {
    const identity = fileIdentity({ cert: '/nonexistent/b.crt', key: '/nonexistent/b.key', ca: '/nonexistent/ca.crt', interval: '20ms' });
    const ready = identity.ready();
    await new Promise((resolve) => setTimeout(resolve, 60));
    await identity.close();
    const error = await ready.then(() => undefined, (e: unknown) => e);
    assert.ok(isMeshkitError(error, 'ERR_CLIENT_CLOSED'), `expected ERR_CLIENT_CLOSED, got ${String(error)}`);
    assert.equal(error.blame, 'local');
    assert.match(error.message, /closed before the files could be loaded/);
    assert.equal((error.cause as NodeJS.ErrnoException | undefined)?.code, 'ENOENT', 'the last load error as cause');
  });

  it('refuses a bad readyTimeout with ERR_INVALID_CONFIG', () => {
    for (const readyTimeout of [0, -1, 'soon']) {
      assert.throws(() => fileIdentity({ cert: 'a', key: 'b', ca: 'c', readyTimeout }),
        (e: unknown) => isMeshkitError(e, 'ERR_INVALID_CONFIG') && e.details['option'] === 'fileIdentity.readyTimeout', String(readyTimeout));
    }
  });
});
