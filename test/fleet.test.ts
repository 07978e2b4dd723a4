import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { generateGroup, MAX_FLEET_NODES, parseFleet, type FleetGroup } from '../src/sim/fleet.js';

function nodesOf(value: unknown, prefix = 'fleet') {
  const result = parseFleet(value, prefix);
  if (!result.ok) throw new Error(`expected a valid fleet, got ${JSON.stringify(result.errors)}`);
  return result.nodes;
}

function errorsOf(value: unknown, prefix = 'fleet') {
  const result = parseFleet(value, prefix);
  if (result.ok) throw new Error('expected fleet problems');
  return result.errors;
}

describe('§9 fleet block: explicit nodes', () => {
  it('§9 nodes keep their labels; connected defaults to true', () => {
    const nodes = nodesOf({
      nodes: [
        { id: 'edge-001', labels: { region: 'us-west' } },
        { id: 'edge-002', connected: false },
      ],
    });
    expect(nodes).toEqual([
      { id: 'edge-001', labels: { region: 'us-west' }, connected: true },
      { id: 'edge-002', labels: {}, connected: false },
    ]);
  });

  it('§9 an empty block is an empty fleet', () => {
    expect(nodesOf({})).toEqual([]);
    expect(nodesOf({ nodes: null, groups: [] })).toEqual([]);
  });

  it('§9 explicit nodes come first, then each group in order', () => {
    const nodes = nodesOf({
      groups: [{ count: 2, prefix: 'b-' }, { count: 1, prefix: 'a-' }],
      nodes: [{ id: 'z' }],
    });
    expect(nodes.map((node) => node.id)).toEqual(['z', 'b-001', 'b-002', 'a-001']);
  });

  it('§9 a duplicate node id names both places', () => {
    expect(errorsOf({ nodes: [{ id: 'edge-001' }, { id: 'a' }, { id: 'b' }, { id: 'edge-001' }] })).toEqual([
      { path: 'fleet.nodes[3].id', message: 'duplicate node id "edge-001" (also fleet.nodes[0])' },
    ]);
  });

  it('§9 label keys such as __proto__ and constructor are ordinary keys', () => {
    const [node] = nodesOf(JSON.parse('{"nodes": [{"id": "a", "labels": {"__proto__": "x", "constructor": "y"}}]}'));
    expect(Object.keys(node?.labels ?? {})).toEqual(['__proto__', 'constructor']);
    const [generated] = nodesOf({ groups: [{ count: 1, prefix: 'g', spread: { constructor: ['c'] } }] });
    expect(generated?.labels.constructor).toBe('c');
  });

  it('§9 label values must be strings, with a hint to quote numbers', () => {
    expect(errorsOf({ nodes: [{ id: 'a', labels: { version: 2, ok: 'yes', 'topology.io/zone': true } }] })).toEqual([
      { path: 'fleet.nodes[0].labels.version', message: 'expected a string, found 2 (quote it: "2")' },
      { path: 'fleet.nodes[0].labels["topology.io/zone"]', message: 'expected a string, found true (quote it: "true")' },
    ]);
  });

  it('§9 every problem of a node is reported at once, with its path', () => {
    const errors = errorsOf({ nodes: [{ labels: 'x', connected: 'no', lables: {} }, 'edge-9'] });
    expect(errors.map((problem) => problem.path)).toEqual([
      'fleet.nodes[0].lables',
      'fleet.nodes[0].id',
      'fleet.nodes[0].labels',
      'fleet.nodes[0].connected',
      'fleet.nodes[1]',
    ]);
    expect(errors[0]?.message).toBe('unknown field `lables`; did you mean `labels`?');
    expect(errors[1]?.message).toBe("required: the node's id");
  });

  it('§9 ids must be non-empty strings without whitespace', () => {
    const errors = errorsOf({ nodes: [{ id: '' }, { id: 'a b' }, { id: 7 }] });
    expect(errors.map((problem) => problem.message)).toEqual([
      'expected a non-empty string without whitespace, found ""',
      'expected a non-empty string without whitespace, found "a b"',
      'expected a non-empty string without whitespace, found 7',
    ]);
  });

  it('§9 unknown keys of the block get a "did you mean" hint', () => {
    expect(errorsOf({ node: [] })).toEqual([{ path: 'fleet.node', message: 'unknown field `node`; did you mean `nodes`?' }]);
    expect(errorsOf({ name: 'x' }, '')).toEqual([{ path: 'name', message: 'unknown field `name`; expected one of `nodes`, `groups`' }]);
  });

  it('§9 a block that is not an object is one clear problem', () => {
    expect(errorsOf(['edge-1'])).toEqual([
      { path: 'fleet', message: 'expected a fleet block (an object with nodes and groups), found a list of 1' },
    ]);
    expect(errorsOf({ nodes: 'edge-1' })).toEqual([{ path: 'fleet.nodes', message: 'expected a list, found "edge-1"' }]);
  });
});

describe('§9 fleet block: generated groups', () => {
  it('§9 ids are prefix + 1-based index padded to max(3, digits(count))', () => {
    expect(generateGroup(group({ count: 3, prefix: 'edge-' })).map((node) => node.id)).toEqual(['edge-001', 'edge-002', 'edge-003']);
    const wide = generateGroup(group({ count: 12345, prefix: 'n' }));
    expect([wide[0]?.id, wide[12344]?.id]).toEqual(['n00001', 'n12345']);
    expect(generateGroup(group({ count: 1000, prefix: 'x' })).at(-1)?.id).toBe('x1000');
  });

  it('§9 spread deals the first key round-robin, later keys in mixed radix', () => {
    const nodes = generateGroup(group({
      count: 7,
      prefix: 'e',
      labels: { env: 'production' },
      spread: { region: ['west', 'east'], tier: ['a', 'b', 'c'] },
    }));
    expect(nodes.map(({ labels }) => `${labels.region}/${labels.tier}`)).toEqual([
      'west/a', 'east/a', 'west/b', 'east/b', 'west/c', 'east/c', 'west/a',
    ]);
    expect(nodes.every((node) => node.labels.env === 'production' && node.connected)).toBe(true);
  });

  it('§9 a group with count 0 generates nothing', () => {
    expect(nodesOf({ groups: [{ count: 0, prefix: 'edge-' }] })).toEqual([]);
  });

  it('§9 count must be an integer >= 0', () => {
    expect(errorsOf({ groups: [{ count: 1, prefix: 'a' }, { count: -5, prefix: 'b' }] })).toEqual([
      { path: 'fleet.groups[1].count', message: 'expected an integer >= 0, found -5' },
    ]);
    expect(errorsOf({ groups: [{ count: 1.5, prefix: 'a' }, { prefix: 'b' }, { count: '3', prefix: 'c' }] })).toEqual([
      { path: 'fleet.groups[0].count', message: 'expected an integer >= 0, found 1.5' },
      { path: 'fleet.groups[1].count', message: 'required: the number of nodes to generate' },
      { path: 'fleet.groups[2].count', message: 'expected an integer >= 0, found "3"' },
    ]);
  });

  it('§9 prefix is required; spread values are non-empty string lists; a spread key may not repeat a label', () => {
    const errors = errorsOf({
      groups: [{
        count: 2,
        labels: { region: 'x' },
        spread: { region: ['a'], tier: [], zone: ['z1', 3], size: 'big' },
        sprad: {},
      }],
    });
    expect(errors).toEqual([
      { path: 'fleet.groups[0].sprad', message: 'unknown field `sprad`; did you mean `spread`?' },
      { path: 'fleet.groups[0].prefix', message: 'required: generated ids are prefix + zero-padded index' },
      { path: 'fleet.groups[0].spread.region', message: 'label "region" is also set in labels; give it in one place' },
      { path: 'fleet.groups[0].spread.tier', message: 'expected a non-empty list of label values, found an empty list' },
      { path: 'fleet.groups[0].spread.zone[1]', message: 'expected a string, found 3 (quote it: "3")' },
      { path: 'fleet.groups[0].spread.size', message: 'expected a non-empty list of label values, found "big"' },
    ]);
  });

  it('§9 duplicates between explicit and generated ids are reported once per group', () => {
    const errors = errorsOf({ nodes: [{ id: 'edge-001' }, { id: 'edge-002' }], groups: [{ count: 5, prefix: 'edge-' }] });
    expect(errors).toEqual([{
      path: 'fleet.groups[0].prefix',
      message: 'duplicate node id: generates node id "edge-001", already defined by fleet.nodes[0] (2 duplicate ids in all)',
    }]);
  });

  it('§9 duplicates between groups are found, also when one prefix extends another', () => {
    expect(errorsOf({ groups: [{ count: 2, prefix: 'edge-' }, { count: 1, prefix: 'edge-' }] })).toEqual([
      { path: 'fleet.groups[1].prefix', message: 'duplicate node id: generates node id "edge-001", already defined by fleet.groups[0]' },
    ]);
    // edge- with 1000 nodes is edge-0001..edge-1000; edge-0 with 5 nodes is edge-0001..edge-0005.
    expect(errorsOf({ groups: [{ count: 1000, prefix: 'edge-' }, { count: 5, prefix: 'edge-0' }] })[0]?.message)
      .toBe('duplicate node id: generates node id "edge-0001", already defined by fleet.groups[0] (5 duplicate ids in all)');
  });

  it('§9 paths have no prefix for a file holding only the block', () => {
    expect(errorsOf({ groups: [{ count: -1, prefix: 'a' }] }, '')).toEqual([
      { path: 'groups[0].count', message: 'expected an integer >= 0, found -1' },
    ]);
  });

  it(`§9 a fleet larger than ${MAX_FLEET_NODES} nodes is refused before anything is generated`, () => {
    expect(errorsOf({ groups: [{ count: MAX_FLEET_NODES, prefix: 'a' }, { count: 1, prefix: 'b' }] })).toEqual([
      { path: 'fleet.groups[1].count', message: `the fleet would hold ${MAX_FLEET_NODES + 1} nodes; at most ${MAX_FLEET_NODES} are supported` },
    ]);
  });

  it('§9 a million generated nodes share a handful of frozen label objects', () => {
    const nodes = nodesOf({
      groups: [{ count: 1_000_000, prefix: 'edge-', labels: { env: 'production' }, spread: { region: ['us-west', 'us-east'] } }],
    });
    expect(nodes).toHaveLength(1_000_000);
    expect(nodes[999_999]).toEqual({ id: 'edge-1000000', labels: { env: 'production', region: 'us-east' }, connected: true });
    expect(new Set(nodes.map((node) => node.labels)).size).toBe(2);
    expect(Object.isFrozen(nodes[0]?.labels)).toBe(true);
  });
});

describe('§9 fleet generation properties', () => {
  const groupArb = fc.record({
    count: fc.integer({ min: 0, max: 300 }),
    prefix: fc.stringMatching(/^[a-z]{1,3}-?$/),
    spread: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.array(fc.stringMatching(/^[a-z0-9]{0,3}$/), { minLength: 1, maxLength: 4 }), { maxKeys: 3 }),
  });

  it('§9 generated ids should never repeat and should sort in index order', () => {
    fc.assert(fc.property(groupArb, (g) => {
      const ids = generateGroup(group(g)).map((node) => node.id);
      expect(new Set(ids).size).toBe(g.count);
      expect([...ids].sort()).toEqual(ids);
    }));
  });

  it('§9 every spread value is dealt as evenly as the mixed radix allows (counts differ by at most one for the first key)', () => {
    fc.assert(fc.property(groupArb, (g) => {
      const [first] = Object.entries(g.spread);
      fc.pre(first !== undefined);
      const [key, values] = first!;
      const nodes = generateGroup(group(g));
      const counts = values.map((_, index) => nodes.filter((_, i) => i % values.length === index).length);
      nodes.forEach((node, i) => expect(node.labels[key]).toBe(values[i % values.length]));
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }));
  });

  it('§9 parseFleet should accept any set of groups with distinct unrelated prefixes and yield the sum of their counts', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.stringMatching(/^[a-z]{2}-$/), { maxLength: 4 }), fc.array(fc.nat(50), { minLength: 4, maxLength: 4 }), (prefixes, counts) => {
      const groups = prefixes.map((prefix, i) => ({ count: counts[i] ?? 0, prefix }));
      const nodes = nodesOf({ groups });
      expect(nodes).toHaveLength(groups.reduce((sum, g) => sum + g.count, 0));
    }));
  });
});

function group(partial: Partial<FleetGroup> & { count: number; prefix: string }): FleetGroup {
  return { labels: {}, spread: {}, ...partial };
}
