// The shared scenario table (scenarios.ts) run against each transport.
import { describe, it } from 'node:test';
import { scenarios } from './scenarios.js';
import { transports } from './scenarios-transports.js';

for (const transport of transports) {
  describe(`scenarios: ${transport.name}`, () => {
    for (const scenario of scenarios) it(scenario.name, () => scenario.run(transport));
  });
}
