/**
 * docs/architecture.md's "Where does a change go" table stays in step with
 * src/: every folder of src/ appears in it, every path it names exists, and
 * it has a row for each kind of change contributors ask about.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HEADING = '## Where does a change go';

/** Words the first column must contain, one row each at least: the kinds of change named when the table was asked for. */
const KINDS = ['balancer', 'resolver', 'policy', 'transport', 'integration', 'metric', 'attempt-loop', 'inbound'];

/** The body rows of the table under `heading` in `markdown`, as arrays of cells. */
function tableRows(markdown: string, heading: string): string[][] {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start === -1) return [];
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(/\n## /);
  const section = end === -1 ? rest : rest.slice(0, end);
  const lines = section.split('\n').filter((line) => line.startsWith('|'));
  // The header row and the |---| separator come first.
  return lines.slice(2).map((line) => line.slice(1, line.endsWith('|') ? -1 : undefined).split(' | ').map((cell) => cell.trim()));
}

/** The repository paths a cell names in backticks (`src/...`, `test/...`, `docs/...`, `package.json`). */
function pathsIn(cell: string): string[] {
  const paths: string[] = [];
  for (const match of cell.matchAll(/`([^`]+)`/g)) {
    const token = match[1] as string;
    if (/^(src|test|docs|bench|examples|scripts)\//.test(token) || token === 'package.json') paths.push(token);
  }
  return paths;
}

/** Whether `path` exists under the root; a `<name>` template counts when the directory before it exists. */
function exists(path: string): boolean {
  const template = path.indexOf('<');
  const concrete = template === -1 ? path : path.slice(0, path.lastIndexOf('/', template) + 1);
  return existsSync(`${ROOT}${concrete}`);
}

const markdown = readFileSync(`${ROOT}docs/architecture.md`, 'utf8');
const rows = tableRows(markdown, HEADING);
const named = rows.flatMap((cells) => cells.flatMap(pathsIn));

describe('docs/architecture.md: where does a change go', () => {
  it('the table is there, with six columns in every row', () => {
    assert.ok(rows.length >= KINDS.length, `found ${rows.length} rows under "${HEADING}"`);
    for (const cells of rows) assert.equal(cells.length, 6, `a row with ${cells.length} cells: ${cells.join(' | ')}`);
  });

  it('has a row for every kind of change', () => {
    const firsts = rows.map((cells) => (cells[0] as string).toLowerCase());
    assert.deepEqual(KINDS.filter((kind) => !firsts.some((first) => first.includes(kind))), []);
  });

  it('names every folder of src/', () => {
    const folders = readdirSync(`${ROOT}src`, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `src/${e.name}/`);
    assert.ok(folders.includes('src/core/'));
    assert.deepEqual(folders.filter((folder) => !named.some((path) => path.startsWith(folder))), [], 'add a row (or a mention) for each new folder');
  });

  it('every path it names exists', () => {
    const missing = [...new Set(named)].filter((path) => !exists(path));
    assert.deepEqual(missing, []);
  });


  it('the parser reads a table and its paths (and a template path by its folder)', () => {
    const sample = `# t\n\n${HEADING}\n\n| a | b |\n| --- | --- |\n| x \`src/core/clock.ts\` | \`src/core/<name>.ts\`, \`src/nowhere.ts\` |\n\n## next\n| not | this |\n`;
    const sampleRows = tableRows(sample, HEADING);
    assert.deepEqual(sampleRows, [['x `src/core/clock.ts`', '`src/core/<name>.ts`, `src/nowhere.ts`']]);
    assert.deepEqual(sampleRows.flatMap((cells) => cells.flatMap(pathsIn)), ['src/core/clock.ts', 'src/core/<name>.ts', 'src/nowhere.ts']);
    assert.deepEqual(['src/core/clock.ts', 'src/core/<name>.ts', 'src/nowhere.ts'].map(exists), [true, true, false]);
  });
});
