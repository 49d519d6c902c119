#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMeshkitError } from '../core/errors.js';
import { loadScenarioArg, outputPaths, parseCliArgs, USAGE } from './cli-args.js';
import { renderReportHtml } from './report-html.js';
import { formatTable, layout } from './report.js';
import { runScenario, scenarioRunJson } from './run-scenario.js';
import { scenarios } from './scenarios/index.js';

/**
 * `meshkit-sim <scenario.json | name> [--seed N] [--scale x] [--out dir] [--json path] [--html path] [--list]`:
 * runs a scenario, prints each variant's table and the comparison beside the
 * published figures, writes the JSON report and an HTML page per variant,
 * and prints wall time and the simulated/wall ratio to stderr. Exit code 0;
 * 2 on bad input, with the message only (no stack trace for a MeshkitError).
 */

// The wall clock is read here, in the command, never in the simulation: it is not part of any report.
const wallNow = (): number => performance.now();

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.list) {
    for (const scenario of Object.values(scenarios)) process.stdout.write(`${scenario.name.padEnd(14)} ${scenario.description}\n`);
    return 0;
  }
  const scenario = loadScenarioArg(args.scenario as string);
  const started = wallNow();
  const run = await runScenario(scenario, { ...(args.seed === undefined ? {} : { seed: args.seed }), ...(args.scale === undefined ? {} : { scale: args.scale }) });
  const wallMs = wallNow() - started;
  for (const variant of run.variants) process.stdout.write(`\n[${variant.name}] ${variant.description}\n${formatTable(variant.report)}`);
  const rows = [['', 'published', 'meshkit'], ...run.comparisons.map((c) => [c.label, c.published, c.meshkit])];
  process.stdout.write(`\n${run.plan.name}: published figures beside meshkit's\n${layout(rows)}\n`);
  const sources = [...new Set(run.comparisons.flatMap((c) => (c.source === undefined ? [] : [c.source])))];
  for (const source of sources) process.stdout.write(`  source: ${source}\n`);
  const paths = outputPaths(args, run.plan.name, run.variants.map((v) => v.name));
  write(paths.json, scenarioRunJson(run));
  for (const variant of run.variants) {
    const comparisons = run.comparisons.filter((c) => c.variant === variant.name);
    write(paths.html.get(variant.name) as string, renderReportHtml(variant.report, comparisons));
  }
  const simulatedMs = run.plan.durationMs * run.variants.length;
  process.stderr.write(`wrote ${paths.json} and ${[...paths.html.values()].join(', ')}\n`);
  process.stderr.write(`wall ${(wallMs / 1000).toFixed(1)} s, simulated ${(simulatedMs / 1000).toFixed(1)} s: ${(simulatedMs / wallMs).toFixed(1)}x\n`);
  return 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (error: unknown) => {
  if (isMeshkitError(error) && (error.code === 'ERR_INVALID_CONFIG' || error.code === 'ERR_INVALID_ARGUMENT')) {
    process.stderr.write(`meshkit-sim: ${error.message}\n${error.code === 'ERR_INVALID_ARGUMENT' ? `\n${USAGE}` : ''}`);
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`meshkit-sim: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
