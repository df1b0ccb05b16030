/**
 * The generic half of an API's field rules: a `Check` returns the reason a value
 * is wrong (completing "<field> …", e.g. "must be an integer between 1 and 10"),
 * or undefined when it is fine. Services add their own checks beside these.
 */

/** `target` is the object holding the value, for rules that look at a sibling field. */
export type Check = (
  value: unknown,
  target: Readonly<Record<string, unknown>>,
) => string | undefined;

export function integerIn(min: number, max: number): Check {
  const reason = `must be an integer between ${min} and ${max}`;
  return (value) =>
    Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : reason;
}

export function oneOf(values: readonly string[]): Check {
  const reason = `must be one of ${values.join(', ')}`;
  return (value) => (typeof value === 'string' && values.includes(value) ? undefined : reason);
}
