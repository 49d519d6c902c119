import { readFileSync } from 'node:fs';
import { invalidConfig } from '../core/errors.js';
import { isOptionsObject, readChoice, readString } from '../core/options.js';

/**
 * Options read from the environment variables of the tools people already
 * use (`CONSUL_HTTP_ADDR`, `ETCDCTL_ENDPOINTS`, ...), when the option itself
 * is absent. Read once, when the provider is created; a malformed value is
 * `ERR_INVALID_CONFIG` naming the variable. An empty variable counts as unset,
 * as the tools treat it.
 */

/** The environment the providers read (tests may pass their own). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The `env` option: an object of strings; `process.env` when undefined. */
export function readEnvironment(value: unknown, option: string): Environment {
  if (value === undefined) return process.env;
  if (!isOptionsObject(value) || !Object.values(value).every((v) => v === undefined || typeof v === 'string')) {
    throw invalidConfig(option, 'an object of environment variables (strings), such as process.env', '<object>');
  }
  return value as Environment;
}

/** The variable's value, or undefined when it is unset or empty. */
export function envString(env: Environment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : readString(value, name);
}

/** A boolean variable (`true`/`false`/`1`/`0`, as Go's ParseBool reads them), or undefined when unset. */
export function envBoolean(env: Environment, name: string): boolean | undefined {
  const value = envString(env, name);
  if (value === undefined) return undefined;
  const choice = readChoice(value.toLowerCase(), name, ['true', 'false', '1', '0', 't', 'f'], 'false');
  return choice === 'true' || choice === '1' || choice === 't';
}

/** The contents of the file a variable names (a CA, a certificate, a key, a token file), or undefined when unset. */
export function envFile(env: Environment, name: string): Buffer | undefined {
  const file = envString(env, name);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch (error) {
    throw invalidConfig(name, `the path of a readable file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, file);
  }
}

/**
 * An agent address as the CLIs take it: a URL (`https://10.0.0.1:8501`) or
 * `host:port` (`127.0.0.1:8500`, `[::1]:8500`), which gets `scheme`. Returns
 * the URL text; undefined for anything else (the caller names the option).
 */
export function addressUrl(text: string, scheme: 'http' | 'https'): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  if (/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i.test(text)) return `${scheme}://${text}`;
  return undefined;
}
