import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The first executable among: the path in env var `envVar`, `name` on PATH,
 * then `name` in each of `extraDirs` (where Debian puts server binaries that
 * PATH may miss, such as /usr/sbin). Undefined when none is executable.
 */
export function findExecutable(envVar: string, name: string, extraDirs: readonly string[] = []): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), ...extraDirs].filter((dir) => dir !== '');
  for (const candidate of [process.env[envVar], ...dirs.map((dir) => join(dir, name))]) {
    if (candidate === undefined || candidate === '') continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not executable here: try the next place
    }
  }
  return undefined;
}
