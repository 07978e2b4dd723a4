/**
 * One parsed requirement of a selector expression (contract §3).
 *
 * `key=value` and `key==value` become `in` with one value, `key!=value` becomes
 * `notin` with one value: the matcher then has four cases instead of seven, and
 * formatting picks the short form back, so text round-trips.
 */
export type Operator = 'in' | 'notin' | 'exists' | 'absent' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  /**
   * For `in`/`notin`: distinct values in the order written (duplicates dropped);
   * a value may be empty (`x=`), and the list may be empty (`x in ()` holds for
   * no node, `x notin ()` for every node). For `gt`/`lt`: one value, a decimal
   * integer that fits in 64 bits. For `exists`/`absent`: empty.
   */
  values: string[];
}

/** Canonical text of a requirement; `parseSelectorExpression` reads it back to an equal requirement. */
export function formatRequirement(r: Requirement): string {
  switch (r.operator) {
    case 'exists':
      return r.key;
    case 'absent':
      return `!${r.key}`;
    case 'in':
      return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in ${valueSet(r.values)}`;
    case 'notin':
      return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin ${valueSet(r.values)}`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
  }
}

/** `(a,b)`; an empty last value gets a second comma, since one trailing comma only ends the list. */
function valueSet(values: string[]): string {
  const last = values[values.length - 1];
  return `(${values.join(',')}${values.length > 0 && last === '' ? ',' : ''})`;
}

export const INT64_MAX = 2n ** 63n - 1n;

/**
 * A label value read as Kubernetes reads it for `>` and `<` (Go's
 * `strconv.ParseInt(v, 10, 64)`): an optional sign and decimal digits, in the
 * signed 64-bit range; anything else is undefined (such a node never matches).
 */
export function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value > INT64_MAX || value < -INT64_MAX - 1n ? undefined : value;
}
