/**
 * Test helpers for code that uses meshkit: `import { VirtualClock } from 'meshkit/testing'`.
 * @packageDocumentation
 */
export { VirtualClock, VIRTUAL_EPOCH_MS } from './virtual-clock.js';
