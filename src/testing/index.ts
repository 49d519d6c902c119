/**
 * Test helpers for code that uses meshkit: `import { VirtualClock } from 'meshkit/testing'`.
 * @packageDocumentation
 */
export { VirtualClock } from './virtual-clock.js';
