/** An HTTP field name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What would split a header or end the head: a value carrying it is header injection. */
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

/**
 * The values of one configured header as a list of strings, or undefined when
 * the name is not a token or a value is not a string free of CR, LF and NUL
 * (an empty list is refused too). Used where a header is configured once, so
 * its error is raised at configuration and not at the first response.
 */
export function headerValues(name: string, value: unknown): readonly string[] | undefined {
  if (!HEADER_NAME.test(name)) return undefined;
  const values: readonly unknown[] = Array.isArray(value) ? value : [value];
  if (values.length === 0) return undefined;
  for (const v of values) if (typeof v !== 'string' || FORBIDDEN_IN_VALUE.test(v)) return undefined;
  return values as readonly string[];
}

/** The sentence an `ERR_INVALID_CONFIG` for a configured header expects. */
export const HEADER_EXPECTATION = 'a header name with a string value (or a list of them), without CR, LF or NUL';
