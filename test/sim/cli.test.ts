import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const CLI = fileURLToPath(new URL('../../src/sim/cli.js', import.meta.url));

function sim(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('meshkit-sim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meshkit-sim-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists the shipped scenarios', () => {
    const { status, stdout } = sim('--list');
    assert.equal(status, 0);
    for (const name of ['linkerd-2016', 'linkerd-2017', 'tail-at-scale', 'retry-storm', 'fleet-scale']) assert.match(stdout, new RegExp(`^${name} `, 'm'));
  });

  it('runs a scenario: the table beside the published figures, JSON and HTML written, the speed on stderr', () => {
    const { status, stdout, stderr } = sim('linkerd-2016', '--scale', '0.02', '--out', dir);
    assert.equal(status, 0, stderr);
    assert.match(stdout, /published figures beside meshkit's/);
    assert.match(stdout, /peak EWMA: success rate\s+99\.90 %\s+\d+\.\d\d %/);
    const json = JSON.parse(readFileSync(join(dir, 'linkerd-2016.json'), 'utf8')) as { variants: unknown[]; seed: number; scale: number };
    assert.equal(json.variants.length, 4);
    assert.deepEqual([json.seed, json.scale], [1, 0.02]);
    for (const variant of ['round-robin', 'least-request', 'peak-ewma', 'recommended']) {
      assert.ok(existsSync(join(dir, `linkerd-2016.${variant}.html`)), variant);
    }
    assert.match(stderr, /wall \d+\.\d s, simulated \d+\.\d s: \d+\.\dx/);
  });

  it('exits 2 on bad input with one clear line and no stack trace', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', description: 'x', duration: '1s', services: [{ name: 'a', instance: 2 }], clients: [] }));
    for (const [args, expected] of [
      [['no-such-scenario'], /Invalid argument scenario/],
      [['linkerd-2016', '--scale', '3'], /Invalid argument --scale/],
      [['linkerd-2016', '--frobnicate'], /Invalid argument --frobnicate/],
      [[bad], /Invalid option services\[0\]\.instance: .*did you mean `instances`/],
    ] as const) {
      const { status, stderr } = sim(...args);
      assert.equal(status, 2, stderr);
      assert.match(stderr, expected);
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
