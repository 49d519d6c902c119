import type { Scenario } from '../scenario-types.js';
import { fleetScale } from './fleet-scale.js';
import { linkerd2016 } from './linkerd-2016.js';
import { linkerd2017 } from './linkerd-2017.js';
import { retryStorm } from './retry-storm.js';
import { tailAtScale } from './tail-at-scale.js';

export { fleetScale, linkerd2016, linkerd2017, retryStorm, tailAtScale };
export { TAIL_AT_SCALE_READ } from './tail-at-scale.js';

/** The shipped scenarios by name, in the order docs/simulator.md presents them. */
export const scenarios: Readonly<Record<string, Scenario>> = Object.freeze({
  [linkerd2016.name]: linkerd2016,
  [linkerd2017.name]: linkerd2017,
  [tailAtScale.name]: tailAtScale,
  [retryStorm.name]: retryStorm,
  [fleetScale.name]: fleetScale,
});

/** The names of the shipped scenarios. */
export function scenarioNames(): readonly string[] {
  return Object.keys(scenarios);
}
