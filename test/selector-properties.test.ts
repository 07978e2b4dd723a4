import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileSelector,
  formatRequirement,
  parseSelectorExpression,
  type FleetNode,
  type Requirement,
} from '../src/selector/index.js';

// Keys and values from the full character rules of docs/selection.md.
const nameArb = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?$/);
const prefixArb = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,3}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,3}[a-z0-9])?){0,2}$/);
const keyArb = fc.oneof(nameArb, fc.tuple(prefixArb, nameArb).map(([prefix, name]) => `${prefix}/${name}`));
const wideRequirementArb = requirementArb(keyArb, nameArb);

// Small pools, so that generated selectors and labels often meet; some keys are
// Object.prototype member names, which must behave like any other key.
const poolKeys = ['region', 'tier', 'in', 'constructor', 'toString', 'hasOwnProperty', 'x.io/zone'];
const poolValues = ['a', 'b', 'us-east', 'constructor', 'in', '', '5', '10'];
// Node labels are not bound by the selector's value rules: signs, and integers beyond 64 bits, for ">" and "<".
const labelValues = [...poolValues, '-3', '+7', '99999999999999999999'];
const poolRequirementArb = requirementArb(fc.constantFrom(...poolKeys), fc.constantFrom(...poolValues));

function requirementArb(key: fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<Requirement> {
  return fc.oneof(
    fc.record({ key, operator: fc.constantFrom('exists' as const, 'absent' as const), values: fc.constant<string[]>([]) }),
    fc.record({
      key,
      operator: fc.constantFrom('in' as const, 'notin' as const),
      // §3 v1.1: the empty value and the empty set are requirements too.
      values: fc.uniqueArray(fc.oneof(value, fc.constant('')), { minLength: 0, maxLength: 4 }),
    }),
    fc.record({
      key,
      operator: fc.constantFrom('gt' as const, 'lt' as const),
      values: fc.tuple(fc.constantFrom('0', '1', '7', '10', '9223372036854775807')).map((v) => [...v]),
    }),
  );
}

/** The same requirement in one of the other spellings the grammar allows, with random blanks between tokens. */
function spell(r: Requirement, variant: number, blank: string): string {
  // One comma before ")" only ends the list, so an empty last value needs a second one.
  const trailing = r.values[r.values.length - 1] === '' ? ',' : '';
  const list = `(${blank}${r.values.join(`${blank},${blank}`)}${trailing}${blank})`;
  switch (r.operator) {
    case 'exists':
      return `${blank}${r.key}${blank}`;
    case 'absent':
      return `${blank}!${blank}${r.key}${blank}`;
    case 'in':
      if (r.values.length === 1 && variant % 3 !== 2) return `${r.key}${blank}${variant % 3 === 0 ? '=' : '=='}${blank}${r.values[0]}`;
      return `${r.key} in${blank}${list}`;
    case 'notin':
      if (r.values.length === 1 && variant % 2 === 0) return `${r.key}${blank}!=${blank}${r.values[0]}`;
      return `${r.key} notin${blank}${list}`;
    case 'gt':
      return `${r.key}${blank}>${blank}${r.values[0]}`;
    case 'lt':
      return `${r.key}${blank}<${blank}${r.values[0]}`;
  }
}

/** The rule of contract §3, written out plainly. */
function referenceEligible(
  selector: { match_labels: Record<string, string>; requirements: Requirement[]; match_ids: string[] },
  node: FleetNode,
): boolean {
  const has = (key: string) => Object.prototype.hasOwnProperty.call(node.labels, key);
  if (!node.connected) return false;
  for (const key of Object.keys(selector.match_labels)) {
    if (!has(key) || node.labels[key] !== selector.match_labels[key]) return false;
  }
  for (const r of selector.requirements) {
    const listed = has(r.key) && r.values.includes(node.labels[r.key]!);
    if (r.operator === 'exists' && !has(r.key)) return false;
    if (r.operator === 'absent' && has(r.key)) return false;
    if (r.operator === 'in' && !listed) return false;
    if (r.operator === 'notin' && listed) return false;
    if (r.operator === 'gt' || r.operator === 'lt') {
      const text = node.labels[r.key] ?? '';
      if (!has(r.key) || !/^[+-]?[0-9]+$/.test(text)) return false;
      const [label, bound] = [BigInt(text), BigInt(r.values[0]!)];
      if (label >= 2n ** 63n || label < -(2n ** 63n)) return false;
      if (r.operator === 'gt' ? !(label > bound) : !(label < bound)) return false;
    }
  }
  if (selector.match_ids.length > 0 && !selector.match_ids.includes(node.id)) return false;
  return true;
}

describe('§3 properties of the expression grammar', () => {
  it('§3 formatting a requirement and parsing the text should give the same requirement back', () => {
    fc.assert(
      fc.property(wideRequirementArb, (r) => {
        expect(parseSelectorExpression(formatRequirement(r))).toEqual({ ok: true, requirements: [r] });
      }),
    );
  });

  it('§3 any spelling of a list of requirements should parse to that list, and its canonical text to the same list', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(wideRequirementArb, fc.nat(5), fc.constantFrom('', ' ', '\t', ' \n ')), { minLength: 1, maxLength: 5 }),
        (parts) => {
          const requirements = parts.map(([r]) => r);
          const text = parts.map(([r, variant, blank]) => spell(r, variant, blank)).join(',');
          const result = parseSelectorExpression(text);
          expect(result).toEqual({ ok: true, requirements });
          const canonical = requirements.map(formatRequirement).join(',');
          expect(parseSelectorExpression(canonical)).toEqual({ ok: true, requirements });
        },
      ),
    );
  });

  it('§3 parsing any text should never throw, and a parsed text should re-parse from its canonical form', () => {
    const tokenish = fc.constantFrom('a', 'b', 'in', 'notin', 'x.io/k', '!', '=', '==', '!=', '>', '<', '7', '(', ')', ',', ' ', '/', '-', '#', 'é');
    const textArb = fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.array(tokenish, { maxLength: 12 }).map((t) => t.join('')));
    fc.assert(
      fc.property(textArb, (text) => {
        const result = parseSelectorExpression(text);
        if (result.ok) {
          const canonical = result.requirements.map(formatRequirement).join(',');
          expect(parseSelectorExpression(canonical)).toEqual(result);
        } else {
          expect(result.column).toBeGreaterThanOrEqual(1);
          expect(result.column).toBeLessThanOrEqual(text.length + 1);
          expect(result.message).toMatch(/^(expected|invalid|empty expression)/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('§3 properties of eligibility', () => {
  const labelsArb = fc
    .tuple(
      fc.dictionary(fc.constantFrom(...poolKeys, '__proto__'), fc.constantFrom(...labelValues), { maxKeys: 5 }),
      fc.boolean(),
    )
    .map(([labels, nullPrototype]) => (nullPrototype ? Object.assign(Object.create(null) as Record<string, string>, labels) : labels));
  const nodeArb = fc.record({ id: fc.constantFrom('n1', 'n2', 'n3'), labels: labelsArb, connected: fc.boolean() });
  const selectorArb = fc.record({
    match_labels: fc.dictionary(fc.constantFrom(...poolKeys, '__proto__'), fc.constantFrom(...poolValues), { maxKeys: 2 }),
    expressions: fc.array(fc.array(fc.tuple(poolRequirementArb, fc.nat(5)), { minLength: 1, maxLength: 3 }), { maxLength: 3 }),
    match_ids: fc.uniqueArray(fc.constantFrom('n1', 'n2', 'n3', 'n4'), { maxLength: 3 }),
  });

  it('§3 the compiled selector should agree with the plainly written rule on any labels and selector', () => {
    // §3 v1.1 cases the runs must reach: empty sets, empty values, ">"/"<", and nodes selected despite them
    // (the last is rarer: about 10-20 in 1,000 runs, so the check asks for at least one).
    const reached = { emptySet: 0, emptyValue: 0, comparison: 0, selectedWithV11Requirement: 0 };
    fc.assert(
      fc.property(selectorArb, fc.array(nodeArb, { minLength: 1, maxLength: 8 }), (selector, nodes) => {
        const match_expressions = selector.expressions.map((parts) => parts.map(([r, variant]) => spell(r, variant, ' ')).join(','));
        const isEligible = compileSelector({ match_labels: selector.match_labels, match_expressions, match_ids: selector.match_ids });
        const requirements = selector.expressions.flatMap((parts) => parts.map(([r]) => r));
        const isEmptySet = (r: Requirement) => r.values.length === 0 && (r.operator === 'in' || r.operator === 'notin');
        const v11 = requirements.filter((r) => isEmptySet(r) || r.values.includes('') || r.operator === 'gt' || r.operator === 'lt');
        if (requirements.some(isEmptySet)) reached.emptySet++;
        if (requirements.some((r) => r.values.includes(''))) reached.emptyValue++;
        if (requirements.some((r) => r.operator === 'gt' || r.operator === 'lt')) reached.comparison++;
        for (const node of nodes) {
          const eligible = referenceEligible({ ...selector, requirements }, node);
          expect(isEligible(node)).toBe(eligible);
          if (eligible && v11.length > 0) reached.selectedWithV11Requirement++;
        }
      }),
      { numRuns: 1000 },
    );
    expect(reached.emptySet).toBeGreaterThan(20);
    expect(reached.emptyValue).toBeGreaterThan(20);
    expect(reached.comparison).toBeGreaterThan(20);
    expect(reached.selectedWithV11Requirement).toBeGreaterThan(0);
  });
});
