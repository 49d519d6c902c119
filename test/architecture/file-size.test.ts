/**
 * Small files with one concept each: no file under src/ is over 400 lines.
 * A file that grows past it holds two concepts; split it (the attempt loop
 * went from one 629-line file to `src/attempts/`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from './import-graph.js';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const MAX_LINES = 400;

describe('src/ file sizes', () => {
  it(`no file under src/ is over ${MAX_LINES} lines`, () => {
    const files = sourceFiles(SRC);
    assert.ok(files.length > 100, `found only ${files.length} source files under ${SRC}`);
    const over = files
      .map((file) => ({ file, lines: readFileSync(`${SRC}${file}`, 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ file, lines }) => `${file}: ${lines} lines`);
    assert.deepEqual(over, []);
  });
});
