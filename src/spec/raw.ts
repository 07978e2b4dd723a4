/**
 * Reading the raw parsed document without prototype lookups: only own
 * properties count, so keys such as `__proto__` or `constructor` are plain keys.
 */
export type RawObject = Readonly<Record<PropertyKey, unknown>>;

export function isRawObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The own property `key` of `value` when `value` is an object, else undefined. */
export function own(value: unknown, key: string): unknown {
  return isRawObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}
