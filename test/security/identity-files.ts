import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import type { TlsMaterial } from '../helpers/tls.js';

/** The paths of a file identity's three files, as `fileIdentity()` takes them. */
export interface IdentityFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/**
 * A writer of file identities (leaf, key, CA) into temporary folders named
 * `prefix`, removed once the test file is done; pass `dir` to rewrite the
 * files of one identity (a rotation). Each file is written through a rename,
 * as agents do, so a reader never sees half a file. Call at module level.
 */
export function identityFileWriter(prefix: string): (material: TlsMaterial, ca: string, dir?: string) => IdentityFiles {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return (material, ca, dir = mkdtempSync(path.join(os.tmpdir(), prefix))) => {
    if (!dirs.includes(dir)) dirs.push(dir);
    const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), ca: path.join(dir, 'ca.pem') };
    for (const [name, text] of [['cert', material.cert], ['key', material.key], ['ca', ca]] as const) {
      writeFileSync(`${files[name]}.tmp`, text);
      renameSync(`${files[name]}.tmp`, files[name]);
    }
    return files;
  };
}
