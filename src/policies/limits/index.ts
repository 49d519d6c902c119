export { aimd, type AimdAlgorithm, type AimdOptions } from './aimd.js';
export { gradient2, type Gradient2Algorithm, type Gradient2Options } from './gradient2.js';
export type { Limit, LimitAlgorithm } from './limit.js';
export {
  ConcurrencyLimiter, resolveSampleWindow,
  type ConcurrencyLimiterOptions, type LimiterSignal, type SampleWindowOptions, type SampleWindowSettings,
} from './limiter.js';
export { vegas, log10Root, type VegasAlgorithm, type VegasOptions } from './vegas.js';
