import type { Endpoint } from '../core/endpoint.js';
import { invalidConfig } from '../core/errors.js';
import { checkOptions } from '../core/options.js';

/** Which endpoints belong to a subset: all listed tags present, all metadata pairs equal. */
export interface SubsetSelector {
  /** Tags the endpoint must all have. Default none. */
  readonly tags?: readonly string[];
  /** Metadata key/values the endpoint must all have (`{ version: 'v2' }`). Default none. */
  readonly metadata?: Readonly<Record<string, string>>;
}

const SELECTOR_KEYS: readonly (keyof SubsetSelector)[] = ['tags', 'metadata'];

/** Validates a selector; errors name `option` (unknown keys included: `option.tag`, did you mean `tags`?). */
export function checkSelector(selector: SubsetSelector, option: string): SubsetSelector {
  const { tags, metadata } = checkOptions(selector, option, SELECTOR_KEYS) as SubsetSelector;
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))) {
    throw invalidConfig(`${option}.tags`, 'an array of strings', tags);
  }
  if (metadata !== undefined && (metadata === null || typeof metadata !== 'object' || !Object.values(metadata).every((v) => typeof v === 'string'))) {
    throw invalidConfig(`${option}.metadata`, 'an object of string values', metadata);
  }
  if ((tags?.length ?? 0) === 0 && Object.keys(metadata ?? {}).length === 0) {
    throw invalidConfig(option, 'at least one tag or metadata pair (an empty selector matches everything)', selector);
  }
  return Object.freeze({ tags: Object.freeze([...(tags ?? [])]), metadata: Object.freeze({ ...(metadata ?? {}) }) });
}

/** Whether `endpoint` matches `selector`. */
export function matches(selector: SubsetSelector, endpoint: Endpoint): boolean {
  for (const tag of selector.tags ?? []) if (!endpoint.tags.includes(tag)) return false;
  for (const [key, value] of Object.entries(selector.metadata ?? {})) if (endpoint.metadata[key] !== value) return false;
  return true;
}
