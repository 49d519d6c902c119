/**
 * The overhead scenario: (a) what meshkit's pipeline (foundation and full policy stack),
 * cockatiel and p-retry add to a call with no network, (b) HTTP throughput and latency of meshkit against raw undici, global fetch and got,
 * all against one upstream server in a separate process. Reports; never fails on a miss.
 */
import { BASELINE_ID, createHttpClients, type HttpClientUnderTest } from './http-clients.js';
import { runHttpMatrix } from './http-matrix.js';
import { describeMachine } from './machine.js';
import { FOUNDATION_STAGES, FULL_STACK_STAGES } from './meshkit-client.js';
import { readOverheadOptions } from './options.js';
import { measurePipeline } from './pipeline.js';
import { formatText, writeReport, type OverheadReport } from './report.js';
import { evaluateTargets } from './targets.js';
import { startUpstream, type Upstream } from './upstream.js';
import { runMtls, type MtlsResult } from './mtls.js';
import { MIN_REQUEST_RATIO, type TargetResult } from './targets.js';

function mtlsTarget(m: MtlsResult | undefined): TargetResult {
  return {
    id: 'mtls-request-ratio',
    description: `c.request over mTLS keeps >= ${MIN_REQUEST_RATIO * 100}% of raw undici over the same TLS at ${m?.concurrency ?? 'n/a'} concurrent`,
    measured: m === undefined ? 'n/a' : `${(m.ratio * 100).toFixed(1)}%`,
    pass: m !== undefined && m.ratio >= MIN_REQUEST_RATIO,
  };
}

const progress = (line: string): void => console.error(`[bench] ${line}`);

export async function runOverhead(): Promise<void> {
  const options = readOverheadOptions();
  const startedAt = new Date().toISOString();
  const machine = describeMachine();

  progress(`pipeline: ${options.pipelineRounds} rounds x ${options.pipelineCalls} calls`);
  const pipeline = await measurePipeline(options.pipelineCalls, options.pipelineRounds);

  let upstream: Upstream | undefined;
  let clients: HttpClientUnderTest[] = [];
  let http;
  let mtls: MtlsResult | undefined;
  try {
    upstream = await startUpstream();
    progress(`upstream listening on ${upstream.origin}`);
    clients = createHttpClients(upstream.origin, `${upstream.host}:${upstream.port}`, options.connections);
    const wanted = options.clients;
    if (wanted !== undefined) {
      const unknown = wanted.filter((id) => !clients.some((c) => c.id === id));
      if (unknown.length > 0) throw new Error(`BENCH_CLIENTS: no client ${unknown.join(', ')}; have ${clients.map((c) => c.id).join(', ')}`);
    }
    const selected = wanted === undefined ? clients : clients.filter((c) => c.id === BASELINE_ID || wanted.includes(c.id));
    http = await runHttpMatrix(selected, upstream, options, progress);
    mtls = await runMtls(options, progress);
  } finally {
    // Close every client even if one close fails, then the upstream: no handle may outlive the run.
    const closes = await Promise.allSettled(clients.map((c) => c.close()));
    for (const [i, outcome] of closes.entries()) {
      if (outcome.status === 'rejected') progress(`closing ${clients[i]?.id} failed: ${String(outcome.reason)}`);
    }
    await upstream?.stop();
  }

  const report: OverheadReport = {
    scenario: 'overhead',
    startedAt,
    machine,
    options,
    meshkitStages: { foundation: FOUNDATION_STAGES, fullStack: FULL_STACK_STAGES },
    pipeline,
    http,
    targets: [...evaluateTargets(pipeline, http), mtlsTarget(mtls)],
    mtls,
  };
  console.log(formatText(report));
  const written = await writeReport(report, options.resultsDir);
  console.log(`\nresults: ${written.json}\nmarkdown: ${written.markdown}`);
}
