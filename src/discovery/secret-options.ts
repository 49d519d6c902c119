import { checkOptions, isOptionsObject } from '../core/options.js';

/**
 * {@link checkOptions} for an options object that carries secrets (tokens,
 * passwords, keys): a mistyped key (`pasword`) is still named with a
 * "did you mean", but its value is shown as `<hidden>`, since error
 * messages end up in logs. Returns `value`.
 */
export function checkSecretOptions(value: unknown, option: string, known: readonly string[]): Readonly<Record<string, unknown>> {
  // Not an object at all: a string here may be the secret itself (`auth: 'user:password'`).
  if (!isOptionsObject(value)) return checkOptions(typeof value === 'string' ? '<hidden>' : value, option, known);
  checkOptions(Object.fromEntries(Object.keys(value).map((key) => [key, '<hidden>'])), option, known);
  return value;
}
