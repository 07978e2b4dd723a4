/**
 * One parsed requirement of a selector expression (contract §3).
 *
 * `key=value` and `key==value` become `in` with one value, `key!=value` becomes
 * `notin` with one value: the matcher then has four cases instead of seven, and
 * formatting picks the short form back, so text round-trips.
 */
export type Operator = 'in' | 'notin' | 'exists' | 'absent';

export interface Requirement {
  key: string;
  operator: Operator;
  /**
   * For `in`/`notin`: one or more distinct, non-empty values in the order written
   * (duplicates dropped). For `exists`/`absent`: empty.
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
      return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(',')})`;
    case 'notin':
      return r.values.length === 1 ? `${r.key}!=${r.values[0]}` : `${r.key} notin (${r.values.join(',')})`;
  }
}
