/**
 * §7a: inputs are checked before they are recorded. The health and execution
 * reports, and nodes with frozen labels, take a hand-written fast path when well formed (src/engine/inputCheck.ts);
 * these properties hold it equal to the zod schemas, which stay the one source
 * of what is accepted and of the error messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkExecutionReport, checkHealthReport, checkNode, executionReport, fleetNode, healthReport } from '../src/engine/inputCheck.js';

const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, '', 'n1', 'job', 0, 1, -1, 2.5, Number.NaN, Infinity, -Infinity, 2 ** 53, true, false, 'true', 'started', 'succeeded', 'failed', 'STARTED', 0.05, -0.01, 1.5),
  fc.anything(),
);
const field = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: anyValue });
const maybe = (arb: fc.Arbitrary<Record<string, unknown>>) => fc.oneof({ weight: 6, arbitrary: arb }, { weight: 1, arbitrary: anyValue });

const healthArb = maybe(
  fc.record(
    { node: field(fc.constantFrom('n1', 'edge-001')), job: field(fc.constant('default/j')), version: field(fc.integer({ min: 1, max: 5 })), healthy: field(fc.boolean()), error_rate: field(fc.double({ min: 0, max: 1, noNaN: true })), extra: anyValue },
    { requiredKeys: [] },
  ),
);
const executionArb = maybe(
  fc.record(
    { node: field(fc.constantFrom('n1', 'edge-001')), job: field(fc.constant('default/j')), version: field(fc.integer({ min: 1, max: 5 })), status: field(fc.constantFrom('started', 'succeeded', 'failed')), extra: anyValue },
    { requiredKeys: [] },
  ),
);
const labelValue = fc.oneof({ weight: 12, arbitrary: fc.constantFrom('production', 'us-west', '') }, { weight: 1, arbitrary: anyValue });
const labelsArb = fc.oneof(
  { weight: 6, arbitrary: fc.dictionary(fc.constantFrom('env', 'region', 'tier', '__proto__', 'constructor'), labelValue) },
  { weight: 1, arbitrary: anyValue },
);
// Half the label objects frozen (what the fast path takes), the rest as given.
const nodeFields = {
  id: field(fc.constantFrom('n1', 'edge-001')),
  // Frozen like a generated fleet's (null prototype) or a caller's own (plain), or as given.
  labels: fc.tuple(labelsArb, fc.constantFrom('plain', 'null-prototype', 'getter', 'as given')).map(([labels, how]) => {
    if (how === 'as given' || typeof labels !== 'object' || labels === null) return labels;
    // A frozen getter may answer differently later: never kept.
    if (how === 'getter') return Object.freeze(Object.defineProperty({ ...labels }, 'zone', { get: () => 'a', enumerable: true }));
    return Object.freeze(how === 'plain' ? labels : Object.assign(Object.create(null) as object, labels));
  }),
  connected: field(fc.boolean()),
  extra: anyValue,
};
const nodeArb = maybe(fc.oneof({ weight: 3, arbitrary: fc.record(nodeFields, { requiredKeys: ['id', 'labels', 'connected'] }) }, { weight: 1, arbitrary: fc.record(nodeFields, { requiredKeys: [] }) }));

function outcome(check: (value: unknown) => unknown, value: unknown): { ok: true; value: unknown } | { ok: false; name: string } {
  try {
    return { ok: true, value: check(value) };
  } catch (error) {
    return { ok: false, name: (error as Error).name };
  }
}

describe('§7a engine input checks', () => {
  it('§7a a health report is accepted exactly when the schema accepts it, with the same fields', () => {
    const counts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(healthArb, (report) => {
        const expected = healthReport.safeParse(report);
        const got = outcome(checkHealthReport, report);
        if (expected.success) {
          counts.accepted++;
          const data: Record<string, unknown> = { ...expected.data };
          if (data.error_rate === undefined) delete data.error_rate;
          expect(got).toEqual({ ok: true, value: data });
        } else {
          counts.refused++;
          expect(got).toEqual({ ok: false, name: 'InputError' });
        }
      }),
      { numRuns: 3000 },
    );
    console.log(`health reports: ${counts.accepted} accepted, ${counts.refused} refused`);
    expect(counts.accepted).toBeGreaterThan(300);
    expect(counts.refused).toBeGreaterThan(300);
  });

  it('§7a an execution report is accepted exactly when the schema accepts it, with the same fields', () => {
    const counts = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(executionArb, (report) => {
        const expected = executionReport.safeParse(report);
        const got = outcome(checkExecutionReport, report);
        if (expected.success) {
          counts.accepted++;
          expect(got).toEqual({ ok: true, value: expected.data });
        } else {
          counts.refused++;
          expect(got).toEqual({ ok: false, name: 'InputError' });
        }
      }),
      { numRuns: 3000 },
    );
    console.log(`execution reports: ${counts.accepted} accepted, ${counts.refused} refused`);
    expect(counts.accepted).toBeGreaterThan(300);
    expect(counts.refused).toBeGreaterThan(300);
  });

  it('§7a a node is accepted exactly when the schema accepts it, with the same fields; frozen labels are kept, others copied', () => {
    const counts = { accepted: 0, refused: 0, shared: 0 };
    fc.assert(
      fc.property(nodeArb, (node) => {
        const expected = fleetNode.safeParse(node);
        const got = outcome(checkNode, node);
        if (expected.success) {
          counts.accepted++;
          expect(got).toEqual({ ok: true, value: expected.data });
          const labels = (got as { value: { labels: object } }).value.labels;
          const given = (node as { labels: object }).labels;
          if (labels === given) {
            counts.shared++;
            expect(Object.values(Object.getOwnPropertyDescriptors(given)).every((property) => 'value' in property)).toBe(true);
          }
          // A labels object the caller could still change is never kept.
          if (!Object.isFrozen(given)) expect(labels).not.toBe(given);
        } else {
          counts.refused++;
          expect(got).toEqual({ ok: false, name: 'InputError' });
        }
      }),
      { numRuns: 3000 },
    );
    console.log(`nodes: ${counts.accepted} accepted (${counts.shared} sharing frozen labels), ${counts.refused} refused`);
    expect(counts.shared).toBeGreaterThan(50);
    expect(counts.accepted - counts.shared).toBeGreaterThan(100);
    expect(counts.refused).toBeGreaterThan(300);
  });
});
