import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rolloutOrder, selectTargets, type FleetNode } from '../src/selector/index.js';

function node(id: string, labels: Record<string, string> = {}, connected = true): FleetNode {
  return { id, labels, connected };
}

const ids = (nodes: FleetNode[]): string[] => nodes.map((n) => n.id);

describe('§3 rollout order: ascending node id by UTF-16 code units', () => {
  it('§3 zero-padded generated ids roll out in numeric order', () => {
    expect(ids(rolloutOrder(['edge-010', 'edge-002', 'edge-100', 'edge-001'].map((id) => node(id))))).toEqual([
      'edge-001',
      'edge-002',
      'edge-010',
      'edge-100',
    ]);
  });

  it('§3 the comparison is by code unit, not locale: digits < upper case < lower case < non-ASCII, no natural-number ordering', () => {
    const order = ['b', 'édge', 'B', 'a', 'node-9', 'node-10', '10', 'Z', '9'];
    expect(ids(rolloutOrder(order.map((id) => node(id))))).toEqual(['10', '9', 'B', 'Z', 'a', 'b', 'node-10', 'node-9', 'édge']);
  });

  it('§3 rolloutOrder returns a new array and leaves its input alone', () => {
    const input = [node('b'), node('a')];
    const output = rolloutOrder(input);
    expect(ids(input)).toEqual(['b', 'a']);
    expect(ids(output)).toEqual(['a', 'b']);
  });

  it('§3 should give the same order for any arrangement of the same fleet', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 40 }), fc.nat(), (nodeIds, seed) => {
        const nodes = nodeIds.map((id) => node(id));
        const shuffled = [...nodes].sort((a, b) => hash(a.id, seed) - hash(b.id, seed));
        const ordered = ids(rolloutOrder(shuffled));
        expect(ordered).toEqual(ids(rolloutOrder(nodes)));
        for (let i = 1; i < ordered.length; i++) expect(ordered[i - 1]! < ordered[i]!).toBe(true);
      }),
    );
  });
});

describe('§3 selectTargets: the eligible nodes in rollout order', () => {
  const fleet = [
    node('edge-003', { env: 'production' }),
    node('edge-001', { env: 'production' }),
    node('edge-004', { env: 'staging' }),
    node('edge-002', { env: 'production' }, false),
  ];

  it('§3 keeps connected matching nodes, sorted by id', () => {
    expect(ids(selectTargets({ match_labels: { env: 'production' } }, fleet))).toEqual(['edge-001', 'edge-003']);
  });

  it('§3 accepts any iterable of nodes, such as a Map of the fleet', () => {
    const byId = new Map(fleet.map((n) => [n.id, n]));
    expect(ids(selectTargets({}, byId.values()))).toEqual(['edge-001', 'edge-003', 'edge-004']);
  });
});

/** A deterministic shuffle key, so a failing case replays from fast-check's seed. */
function hash(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x9e3779b1);
  return h;
}
