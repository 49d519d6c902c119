import { client as startClient } from '../client/builder.js';
import type { Client } from '../client/client.js';
import type { InstanceSpec, SimService } from './simulation.js';
import { Simulation } from './simulation.js';
import type { SimBehaviour, SimHandler } from './backend-behaviour.js';
import { closedLoop, openLoop, type CallTarget, type UserRequestSink } from './load.js';
import { SimRecorder } from './recorder.js';
import type { SimReport } from './report.js';
import { compareRuns, type ScenarioComparison } from './scenario-measure.js';
import { planScenario, type PlannedClient, type PlannedService, type PlannedVariant, type PlanOptions, type ScenarioPlan } from './scenario-plan.js';
import { applyStack } from './scenario-stack.js';

/** Options of {@link runScenario}: the plan's (`seed`, `scale`). */
export type RunScenarioOptions = PlanOptions;

/** One variant's run. */
export interface VariantRun {
  readonly name: string;
  readonly description: string;
  readonly report: SimReport;
}

/** What {@link runScenario} returns: the plan it ran, a report per variant, and the comparison table. */
export interface ScenarioRun {
  readonly plan: ScenarioPlan;
  readonly variants: readonly VariantRun[];
  readonly comparisons: readonly ScenarioComparison[];
}

/** Virtual time clients get to drain when the run ends (their `close()` bound). */
const CLOSE_MS = 5000;

/** A response of 500 or more fails its user request, as it fails the caller's. */
class StatusError extends Error {
  readonly code: string;
  constructor(status: number) {
    super(`HTTP ${status}`);
    this.code = `HTTP_${status}`;
  }
}

/**
 * Reads the body and fails on a server error: one function per client, not
 * per call. `bytes()`, not `dump()`: like undici's, a dump resolves even when
 * the body fails, and a body that never arrives fails its user request.
 */
function httpTarget(client: Client, path: string): CallTarget {
  const settle = async (response: { statusCode: number; body: { bytes(): Promise<unknown> } }): Promise<void> => {
    await response.body.bytes();
    if (response.statusCode >= 500) throw new StatusError(response.statusCode);
  };
  const options = { path };
  return () => client.request(options).then(settle);
}

/** A tier's handler: serve each request by calling the next service through this instance's own client. */
function tierHandler(downstream: () => Client, path: string, failureStatus: number): SimHandler {
  const options = { path };
  return async () => {
    try {
      const response = await downstream().request(options);
      await response.body.bytes(); // a failed body fails this tier's answer too
      return { status: response.statusCode >= 500 ? failureStatus : 200 };
    } catch {
      return { status: failureStatus };
    }
  };
}

function build(sim: Simulation, planned: PlannedClient, service: SimService, name: string, zone: string | undefined, path: string): Client {
  const builder = startClient(name).discovery(service.resolver).transport(sim.transport).clock(sim.clock);
  return applyStack(builder, planned.stack, path, sim.clock, zone).build();
}

/**
 * Most client x endpoint pairs for which client state is sampled every
 * bucket: a snapshot lists every endpoint, so a fleet (100 clients x 1,000
 * backends) would spend most of its run on them.
 */
const MAX_SAMPLED_PAIRS = 20_000;

function sampled(plan: ScenarioPlan, variant: PlannedVariant): boolean {
  let pairs = 0;
  for (const planned of variant.clients) {
    const target = plan.services.find((s) => s.name === planned.service);
    const caller = plan.services.find((s) => s.handler?.call === planned.name);
    pairs += (caller === undefined ? planned.replicas : caller.instances) * (target?.instances ?? 0);
  }
  return pairs <= MAX_SAMPLED_PAIRS;
}

/** Runs one variant in a fresh simulation (same seed: every variant sees the same backend draws). */
async function runVariant(plan: ScenarioPlan, variant: PlannedVariant): Promise<VariantRun> {
  const sim = new Simulation({ seed: plan.seed, bucketMs: plan.bucketMs });
  const tierClients = new Map<string, Client[]>(); // client name -> one client per instance of the calling service
  const services = new Map<string, SimService>();
  for (const service of plan.services) services.set(service.name, addService(sim, service, tierClients));
  const clients: Client[] = [];
  const recorder = new SimRecorder(sim.loop, { duration: plan.durationMs, bucketMs: plan.bucketMs, backends: sim.backends(), sample: sampled(plan, variant) });
  variant.clients.forEach((planned, index) => {
    const path = `clients[${index}].stack`;
    const target = services.get(planned.service) as SimService;
    const caller = plan.services.find((s) => s.handler?.call === planned.name);
    if (caller !== undefined) {
      // Instance i of the calling service sits in its zone: a zone-aware balancer prefers that one.
      const zoneOf = (i: number): string | undefined => (caller.zones.length === 0 ? planned.zones[0] : caller.zones[i % caller.zones.length]);
      const own = Array.from({ length: caller.instances }, (_, i) => build(sim, planned, target, `${planned.name}.${i}`, zoneOf(i), path));
      tierClients.set(planned.name, own);
      clients.push(...own);
      recorder.track(planned.name, own);
      return;
    }
    const replicas = planned.zones.map((zone, i) => build(sim, planned, target, planned.replicas === 1 ? planned.name : `${planned.name}.${i}`, zone, path));
    clients.push(...replicas);
    const track = recorder.track(planned.name, replicas);
    const load = planned.load;
    if (load === undefined) return;
    replicas.forEach((replica, i) => {
      // Each replica draws its own arrivals (`load:<name>.<i>`) and reports to the client's track.
      const record: UserRequestSink = replicas.length === 1 ? track : { name: `${planned.name}.${i}`, userRequest: (s, e, error) => track.userRequest(s, e, error) };
      const common = { record, start: load.startMs, duration: load.durationMs, fanout: load.fanout };
      const call = httpTarget(replica, load.path);
      if (load.type === 'open') openLoop(sim.loop, call, { ...common, rate: load.rate });
      else closedLoop(sim.loop, call, { ...common, callers: load.callers, thinkMs: load.thinkMs });
    });
  });
  recorder.start();
  try {
    await sim.run(plan.durationMs);
  } finally {
    recorder.stop();
  }
  const report = recorder.report(plan.name);
  const closed = Promise.all(clients.map((c) => c.close({ timeout: CLOSE_MS })));
  await sim.run(plan.durationMs + CLOSE_MS + 1000);
  await closed;
  return { name: variant.name, description: variant.description, report };
}

function addService(sim: Simulation, service: PlannedService, tierClients: ReadonlyMap<string, Client[]>): SimService {
  const behaviour = service.behaviour as SimBehaviour;
  const handler = service.handler;
  const instances: number | InstanceSpec[] = handler === undefined
    ? service.instances
    : Array.from({ length: service.instances }, (_, i) => ({
      behaviour: { handler: tierHandler(() => (tierClients.get(handler.call) as Client[])[i] as Client, handler.path ?? '/', handler.failureStatus ?? 503) },
    }));
  return sim.service(service.name, {
    instances,
    behaviour,
    ...(service.zones.length === 0 ? {} : { zones: service.zones }),
    timeline: service.timeline,
  });
}

/**
 * Runs a scenario: validates and plans it (see `planScenario`), then runs
 * each variant in its own fresh {@link Simulation} with the same seed,
 * the real meshkit clients built from each client's stack, its load and a
 * recorder; returns a report per variant and the comparison table. The
 * same scenario, seed and scale give byte-identical reports.
 */
export async function runScenario(scenario: unknown, options: RunScenarioOptions = {}): Promise<ScenarioRun> {
  const plan = planScenario(scenario, options);
  const variants: VariantRun[] = [];
  for (const variant of plan.variants) variants.push(await runVariant(plan, variant));
  const comparisons = compareRuns(plan, new Map(variants.map((v) => [v.name, v.report])));
  return { plan, variants, comparisons };
}

/** The canonical JSON of a scenario run (2-space indent, trailing newline): byte-identical for the same scenario, seed and scale. */
export function scenarioRunJson(run: ScenarioRun): string {
  const document = {
    scenario: run.plan.name,
    description: run.plan.description,
    seed: run.plan.seed,
    scale: run.plan.scale,
    comparisons: run.comparisons.map((c) => ({
      label: c.label, variant: c.variant, client: c.client, metric: c.metric,
      published: c.publishedValue ?? null, meshkit: c.meshkitValue === undefined ? null : Number(c.meshkitValue.toFixed(6)), source: c.source ?? null,
    })),
    variants: run.variants.map((v) => ({ name: v.name, description: v.description, report: v.report })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
