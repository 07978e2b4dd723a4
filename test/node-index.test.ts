import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateGroup } from '../src/sim/fleet.js';
import { NodeIndex } from '../src/engine/nodeIndex.js';

/** Ids as a fleet block makes them (§9): explicit ids, then groups of prefix + zero-padded counter; some prefixes nest or end in digits. */
const fleetIds = fc
  .tuple(
    fc.uniqueArray(fc.oneof(fc.stringMatching(/^[a-z]{1,4}-?[0-9]{0,3}$/), fc.constantFrom('edge-001', 'edge-01', 'a7', '7', '')), { maxLength: 12 }),
    fc.array(fc.record({ prefix: fc.constantFrom('edge-', 'edge-0', 'e', 'a7', 'rack1-', ''), count: fc.integer({ min: 0, max: 1200 }) }), { maxLength: 4 }),
  )
  .map(([explicit, groups]) => {
    const ids = explicit.filter((id) => id !== '');
    for (const group of groups) ids.push(...generateGroup({ count: group.count, prefix: group.prefix, labels: {}, spread: {} }).map((node) => node.id));
    return [...new Set(ids)];
  });

describe('NodeIndex: node id -> dense index (the simulator finds §9 fleet nodes by id)', () => {
  it('§9: every id added is found at the index it was added at, ids never added are not found', () => {
    const shapes = { 'a group of over 1000 ids': 0, 'explicit ids only': 0, other: 0 };
    fc.assert(
      fc.property(fleetIds, fc.array(fc.stringMatching(/^[a-z]{0,4}-?[0-9]{0,5}$/), { maxLength: 20 }), (ids, probes) => {
        shapes[ids.length > 1000 ? 'a group of over 1000 ids' : ids.every((id) => !/[0-9]{3}$/.test(id)) ? 'explicit ids only' : 'other'] += 1;
        const index = new NodeIndex();
        const wrong: string[] = [];
        ids.forEach((id, i) => {
          // Most callers look an id up before adding it (the index then reuses what it read); some add at once.
          if (i % 3 !== 0 && index.indexOf(id) !== -1) wrong.push(`${id} found before it was added`);
          if (index.add(id) !== i) wrong.push(`${id} added at another index than ${i}`);
        });
        ids.forEach((id, i) => {
          if (index.indexOf(id) !== i) wrong.push(`${id} found at ${index.indexOf(id)}, added at ${i}`);
        });
        const known = new Set(ids);
        for (const probe of probes) if (!known.has(probe) && index.indexOf(probe) !== -1) wrong.push(`${probe} found, never added`);
        expect(wrong).toEqual([]);
        expect(index.size).toBe(ids.length);
      }),
      { numRuns: 150 },
    );
    expect(shapes['a group of over 1000 ids']).toBeGreaterThan(10);
    expect(shapes['explicit ids only']).toBeGreaterThan(0);
  });

  it('§9: a node joining later, between two runs of generated ids, keeps both runs exact', () => {
    const index = new NodeIndex();
    for (const node of generateGroup({ count: 50, prefix: 'edge-', labels: {}, spread: {} })) index.add(node.id);
    expect(index.add('late-joiner')).toBe(50);
    expect(index.add('edge-051')).toBe(51);
    expect(index.add('edge-052')).toBe(52);
    expect(index.indexOf('edge-050')).toBe(49);
    expect(index.indexOf('edge-051')).toBe(51);
    expect(index.indexOf('edge-052')).toBe(52);
    expect(index.indexOf('edge-053')).toBe(-1);
    expect(index.indexOf('edge-000')).toBe(-1);
    expect(index.indexOf('edge-51')).toBe(-1);
    expect(index.indexOf('late-joiner')).toBe(50);
  });
});
