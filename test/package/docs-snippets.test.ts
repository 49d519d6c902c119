// Docs are code: every ```ts block in README.md and docs/**/*.md compiles under
// strict TypeScript against the package's own sources. A block that cannot be
// a complete snippet opts out with ```ts no-check: <reason>; opt-outs are
// counted and capped so they stay rare.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeBlocks, findRepoRoot, userMarkdownFiles, type CodeBlock } from './markdown.js';
import { checkSnippets } from './snippet-check.js';

/** At most this many blocks may opt out of the check. */
const MAX_OPT_OUTS = 4;
const TS_LANGS = new Set(['ts', 'typescript']);

describe('docs type-check', { timeout: 150_000 }, () => {
  const repo = findRepoRoot();
  const blocks = userMarkdownFiles(repo).flatMap((file) => codeBlocks(file, readFileSync(join(repo, file), 'utf8')));
  const tsBlocks = blocks.filter((b) => TS_LANGS.has(b.lang));
  const optedOut = tsBlocks.filter((b) => /^no-check\b/.test(b.info));
  const checked = tsBlocks.filter((b) => !optedOut.includes(b));

  test('every ```ts block in README.md and docs/ compiles (strict, against src/)', async () => {
    assert.ok(checked.length > 20, `found only ${checked.length} ts blocks: is the extraction broken?`);
    const diagnostics = await checkSnippets(repo, join(repo, '.build/docs-snippets'), checked);
    const report = diagnostics.map((d) => `${d.where}: ${d.message}`).join('\n');
    assert.equal(diagnostics.length, 0, `${diagnostics.length} type errors in ${checked.length} doc snippets:\n${report}`);
  });

  test(`opt-outs (\`\`\`ts no-check) are rare and say why (at most ${MAX_OPT_OUTS})`, () => {
    const where = (b: CodeBlock): string => `${b.file}:${b.line - 1} ${b.info}`;
    const unexplained = optedOut.filter((b) => !/^no-check\s*[:-]?\s*\S{3,}/.test(b.info));
    assert.deepEqual(unexplained.map(where), [], 'a no-check block must give its reason: ```ts no-check: why');
    assert.ok(optedOut.length <= MAX_OPT_OUTS, `${optedOut.length} blocks opt out:\n${optedOut.map(where).join('\n')}`);
    // Any other info on a ts fence is a typo of the opt-out (or a title the check would silently honour).
    const unknownInfo = tsBlocks.filter((b) => b.info !== '' && !optedOut.includes(b));
    assert.deepEqual(unknownInfo.map(where), []);
  });

  test('a broken block is reported at its Markdown file and line', async () => {
    const broken: CodeBlock[] = [
      { file: 'docs/fine.md', line: 10, lang: 'ts', info: '', code: "import { client } from 'meshkit';\nclient('a').build();" },
      { file: 'docs/broken.md', line: 20, lang: 'ts', info: '', code: "import { consul } from 'meshkit/consul';\n\nconsul('orders');" },
    ];
    const diagnostics = await checkSnippets(repo, join(repo, '.build/docs-snippets-selftest'), broken);
    assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
    assert.equal(diagnostics[0]?.where, 'docs/broken.md:22:8');
    assert.match(diagnostics[0]?.message ?? '', /^TS2345: /);
  });
});
