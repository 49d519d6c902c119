import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isMeshkitError } from '../../src/core/errors.js';
import { loadScenarioArg, outputPaths, parseCliArgs, USAGE } from '../../src/sim/cli-args.js';
import { scenarios } from '../../src/sim/scenarios/index.js';

function refused(argv: readonly string[], argument: string): void {
  assert.throws(() => parseCliArgs(argv), (error: unknown) => {
    assert.ok(isMeshkitError(error, 'ERR_INVALID_ARGUMENT'), String(error));
    assert.equal(error.details['argument'], argument, error.message);
    return true;
  });
}

describe('meshkit-sim arguments', () => {
  it('parses a scenario and every option, with or without =', () => {
    assert.deepEqual(parseCliArgs(['linkerd-2016']), {
      scenario: 'linkerd-2016', seed: undefined, scale: undefined, out: 'meshkit-sim', json: undefined, html: undefined, list: false, help: false,
    });
    assert.deepEqual(parseCliArgs(['--seed', '7', 'my.json', '--scale=0.25', '--out', 'runs', '--json', 'a.json', '--html=b.html']), {
      scenario: 'my.json', seed: 7, scale: 0.25, out: 'runs', json: 'a.json', html: 'b.html', list: false, help: false,
    });
    assert.equal(parseCliArgs(['--list']).list, true);
    assert.equal(parseCliArgs(['-h']).help, true);
    assert.match(USAGE, /--scale x/);
  });

  it('refuses bad input with the argument named', () => {
    refused([], 'scenario');
    refused(['a', 'b'], 'scenario');
    refused(['a', '--sed', '1'], '--sed');
    refused(['a', '--seed'], '--seed');
    refused(['a', '--seed', '--scale', '1'], '--seed');
    refused(['a', '--seed', '1.5'], '--seed');
    refused(['a', '--seed', '-1'], '--seed');
    refused(['a', '--scale', '0'], '--scale');
    refused(['a', '--scale', '2'], '--scale');
    refused(['a', '--scale', 'half'], '--scale');
    refused(['a', '--out', 'x', '--out', 'y'], '--out');
  });

  it('names the output files: one HTML page per variant when there are several', () => {
    const args = parseCliArgs(['linkerd-2016', '--out', 'runs']);
    const one = outputPaths(args, 'linkerd-2016', ['default']);
    assert.equal(one.json, join('runs', 'linkerd-2016.json'));
    assert.deepEqual([...one.html], [['default', join('runs', 'linkerd-2016.html')]]);
    const many = outputPaths(parseCliArgs(['x', '--html', 'page.htm', '--json', 'r.json']), 'x', ['rr', 'ewma']);
    assert.equal(many.json, 'r.json');
    assert.deepEqual([...many.html], [['rr', 'page.rr.htm'], ['ewma', 'page.ewma.htm']]);
  });

  describe('loading the scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshkit-sim-args-'));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('finds a shipped scenario by name, else reads a JSON file', () => {
      assert.equal(loadScenarioArg('tail-at-scale'), scenarios['tail-at-scale']);
      const file = join(dir, 'mine.json');
      writeFileSync(file, JSON.stringify({ name: 'mine' }));
      assert.deepEqual(loadScenarioArg(file), { name: 'mine' });
    });

    it('refuses a name that is neither, and JSON that does not parse', () => {
      assert.throws(() => loadScenarioArg('toString'), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && /linkerd-2016/.test(error.message));
      assert.throws(() => loadScenarioArg(join(dir, 'missing.json')), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_ARGUMENT') && /ENOENT/.test(error.message));
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{ "name": ');
      assert.throws(() => loadScenarioArg(broken), (error: unknown) => isMeshkitError(error, 'ERR_INVALID_CONFIG') && error.details['option'] === broken);
    });
  });
});
