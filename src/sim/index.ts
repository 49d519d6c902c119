/**
 * `meshkit/sim`: a deterministic fleet simulator. Real meshkit clients (the
 * ordinary builder, balancers and policies) call simulated backends in
 * virtual time; a recorder turns the run into a JSON report, a text table
 * and a self-contained HTML page. The same scenario and seed give a
 * byte-identical JSON report. See docs/simulator.md.
 */
export { SimLoop, SIM_EPOCH_MS } from './event-loop.js';
export type { SimClock, SimLoopOptions } from './event-loop.js';
export { latencySampler } from './latency.js';
export type { LatencySampler, LatencySpec } from './latency.js';
export { Simulation, simAddress } from './simulation.js';
export type { InstanceSpec, SimService, SimServiceOptions, SimulationOptions } from './simulation.js';
export type { SimTimelineEntry } from './simulation-timeline.js';
export type { BackendTotals, SimBackend } from './backend.js';
export type { SimBehaviour, SimHandler, SimHandlerContext, SimHandlerResult, SimRequest } from './backend-behaviour.js';
export type { SimResolver } from './resolver.js';
export type { SimTransport } from './transport.js';
export { closedLoop, errorCodeOf, openLoop } from './load.js';
export type { CallTarget, ClosedLoopOptions, LoadOptions, LoadRun, OpenLoopOptions, UserRequestSink } from './load.js';
export { SimRecorder } from './recorder.js';
export type { ClientTrack, SimRecorderOptions } from './recorder.js';
export { formatTable, reportJson } from './report.js';
export type {
  BackendReport, BreakerEvent, ClientReport, Comparison, EjectionEvent, LatencySummary, LimiterSeries, SimReport, SimTimelines,
} from './report.js';
export { renderReportHtml } from './report-html.js';
export { validateScenario } from './scenario.js';
export type * from './scenario-types.js';
export { planScenario } from './scenario-plan.js';
export type { PlanOptions, ScenarioPlan } from './scenario-plan.js';
export { runScenario, scenarioRunJson } from './run-scenario.js';
export type { RunScenarioOptions, ScenarioRun, VariantRun } from './run-scenario.js';
export type { ScenarioComparison } from './scenario-measure.js';
export { scenarioNames, scenarios } from './scenarios/index.js';
