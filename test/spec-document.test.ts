import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ALIAS_EXPANSION, MAX_BYTES, MAX_DEPTH, MAX_YAML_BYTES, parseDocument, type DocumentParseResult } from '../src/spec/document.js';

function problemOf(result: DocumentParseResult): string {
  if (result.ok) throw new Error(`expected a problem, got ${JSON.stringify(result.value)}`);
  expect(result.problem.path).toBe('');
  return result.problem.message;
}

function valueOf(result: DocumentParseResult): unknown {
  if (!result.ok) throw new Error(`expected a value, got ${result.problem.message}`);
  return result.value;
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe('§2 JobSpec documents: JSON or YAML', () => {
  it('§2 reads JSON', () => {
    expect(valueOf(parseDocument('{"name": "x", "priority": 5}', 'job.json'))).toEqual({ name: 'x', priority: 5 });
  });

  it('§2 reads YAML 1.2 (yes/on stay strings, no YAML 1.1 booleans)', () => {
    expect(valueOf(parseDocument('name: x\nlabels:\n  flag: yes\n  switch: on\n', 'job.yaml'))).toEqual({
      name: 'x',
      labels: { flag: 'yes', switch: 'on' },
    });
  });

  it('§2 reads bytes as UTF-8, with or without a byte order mark', () => {
    const utf8 = new TextEncoder().encode('name: caf\u00e9\n');
    expect(valueOf(parseDocument(utf8, 'job.yaml'))).toEqual({ name: 'caf\u00e9' });
    expect(valueOf(parseDocument(bytes(0xef, 0xbb, 0xbf, ...utf8), 'job.yaml'))).toEqual({ name: 'caf\u00e9' });
    expect(valueOf(parseDocument('\ufeff{"name": "x"}', 'job.json'))).toEqual({ name: 'x' });
  });

  it('§2 a JSON-looking YAML flow mapping is read as YAML', () => {
    expect(valueOf(parseDocument('{name: x, type: query}', 'job.yaml'))).toEqual({ name: 'x', type: 'query' });
  });

  it('§2 a top-level scalar or list is a document (the validator judges it)', () => {
    expect(valueOf(parseDocument('42', 'job.yaml'))).toBe(42);
    expect(valueOf(parseDocument('[1, 2]', 'job.json'))).toEqual([1, 2]);
    expect(valueOf(parseDocument('null', 'job.json'))).toBeNull();
  });

  it('§2 a __proto__ key is an own key, in JSON and in YAML', () => {
    for (const text of ['{"labels": {"__proto__": "x"}}', 'labels:\n  __proto__: x\n']) {
      const value = valueOf(parseDocument(text, 'job')) as { labels: object };
      expect(Object.hasOwn(value.labels, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(value.labels)).toBe(Object.prototype);
    }
  });
});

describe('§2 JobSpec documents: every bad input is a problem naming the file', () => {
  it.each(['', '   \n\t\n', '\ufeff'])('§2 an empty file (%j)', (text) => {
    expect(problemOf(parseDocument(text, 'job.yaml'))).toBe('job.yaml: file is empty');
  });

  it('§2 a file of comments only is empty', () => {
    expect(problemOf(parseDocument('# nothing here\n', 'job.yaml'))).toMatch(/^job\.yaml: file is empty/);
  });

  it('§2 binary content: NUL bytes, invalid UTF-8, UTF-16', () => {
    expect(problemOf(parseDocument(bytes(0x6e, 0x00, 0x61), 'a.bin'))).toMatch(/^a\.bin: not a text file/);
    expect(problemOf(parseDocument(bytes(0x6e, 0xff, 0xfe, 0x61), 'a.bin'))).toMatch(/not a text file.*UTF-8/);
    const utf16 = bytes(0xff, 0xfe, 0x6e, 0x00, 0x3a, 0x00);
    expect(problemOf(parseDocument(utf16, 'a.yaml'))).toMatch(/not a text file.*UTF-16/);
    expect(problemOf(parseDocument('name: a\u0000b', 'a.yaml'))).toMatch(/not a text file/);
    expect(problemOf(parseDocument('name: \ud800', 'a.yaml'))).toMatch(/not a text file/);
  });

  it('§2 malformed JSON names line and column', () => {
    expect(problemOf(parseDocument('{\n  "name": "x",\n  "type": "query" "priority": 5\n}', 'job.json'))).toMatch(
      /^job\.json:3:19: /,
    );
  });

  it('§2 malformed YAML names line and column', () => {
    expect(problemOf(parseDocument('name: x\ntype: [query\nlabels: {}\n', 'job.yaml'))).toMatch(/^job\.yaml:\d+:\d+: /);
    expect(problemOf(parseDocument('name: x\n  bad: indent\n', 'job.yaml'))).toMatch(/^job\.yaml:1:\d+: /);
  });

  it('§2 duplicate YAML keys are an error', () => {
    expect(problemOf(parseDocument('name: a\nname: b\n', 'job.yaml'))).toMatch(/^job\.yaml:2:1: .*unique/);
  });

  it('§2 duplicate JSON keys are an error naming the field and both places, as in YAML', () => {
    const result = parseDocument('{\n  "name": "a",\n  "deployment": {"strategy": "rolling",\n    "strategy": "canary"}\n}', 'job.json');
    expect(result).toEqual({
      ok: false,
      problem: {
        path: 'deployment.strategy',
        message: 'duplicate key at line 4, column 5 (first at line 3, column 18): keys must be unique, in JSON as in YAML',
      },
    });
  });

  it.each([
    ['top level', '{"name": "a", "name": "b"}', 'name'],
    ['in a list', '{"nodes": [{"id": "n1"}, {"id": "n2", "labels": {"a": "1", "a": "2"}}]}', 'nodes[1].labels.a'],
    ['spelled with an escape', '{"name": "a", "n\u0061me": "b"}', 'name'],
    ['a key that is not a plain name', '{"meta": {"expanso.io/x": "1", "expanso.io/x": "2"}}', 'meta["expanso.io/x"]'],
  ])('§2 duplicate JSON keys: %s', (_case, text, path) => {
    const result = parseDocument(text, 'f.json');
    expect(result.ok ? undefined : result.problem.path).toBe(path);
  });

  it('§2 equal keys in different objects are not duplicates', () => {
    expect(valueOf(parseDocument('{"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 3}, {"x": 4}]}', 'f.json'))).toEqual({
      a: { x: 1 },
      b: { x: 2 },
      c: [{ x: 3 }, { x: 4 }],
    });
  });

  it('§2 several YAML documents are an error', () => {
    expect(problemOf(parseDocument('name: a\n---\nname: b\n', 'job.yaml'))).toBe(
      'job.yaml:2:1: holds 2 YAML documents; a JobSpec file holds exactly one',
    );
  });

  it('§2 unknown tags and YAML 1.1 tags are errors, not silent strings or buffers', () => {
    expect(problemOf(parseDocument('name: !Ref x\n', 'job.yaml'))).toMatch(/^job\.yaml:1:7: .*tag/i);
    expect(problemOf(parseDocument('data: !!binary aGVsbG8=\n', 'job.yaml'))).toMatch(/tag/i);
  });

  it('§2 mapping keys are strings; a collection as key is an error', () => {
    expect(valueOf(parseDocument('labels: {1: a, true: b}\n', 'job.yaml'))).toEqual({ labels: { 1: 'a', true: 'b' } });
    expect(problemOf(parseDocument('? [a, b]\n: c\n', 'job.yaml'))).toMatch(/^job\.yaml:\d+:\d+: /);
  });

  it('§2 an alias bomb is refused', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const name of 'bcdefghi') {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    expect(problemOf(parseDocument(levels.join('\n'), 'bomb.yaml'))).toMatch(
      /^bomb\.yaml: YAML aliases expand too much: the document's \d+ nodes become more than \d+ \(aliases may add at most 1,000,000 nodes\)$/,
    );
  });

  it('§2 the alias limit is by expansion, not count: one anchor reused 150 times is accepted', () => {
    const nodes = Array.from({ length: 150 }, (_, i) => `  - { id: edge-${i}, labels: *common }`);
    const text = ['common: &common { env: production, region: us-west, tier: gold }', 'nodes:', ...nodes].join('\n');
    const value = valueOf(parseDocument(text, 'fleet.yaml')) as { nodes: Array<{ labels: unknown }> };
    expect(value.nodes).toHaveLength(150);
    expect(value.nodes[149]?.labels).toEqual({ env: 'production', region: 'us-west', tier: 'gold' });
  });

  it('§2 aliases may add up to MAX_ALIAS_EXPANSION nodes, and not one more', () => {
    // An anchor of 1 + 2 * 999 = 1999 nodes; each alias of it adds 1998 nodes to the one it replaces.
    const anchor = `a: &a {${Array.from({ length: 999 }, (_, i) => `k${i}: v`).join(', ')}}`;
    const uses = (n: number) => [anchor, `b: [${Array(n).fill('*a').join(', ')}]`].join('\n');
    const fits = Math.floor(MAX_ALIAS_EXPANSION / 1998);
    expect(parseDocument(uses(fits), 'big.yaml').ok).toBe(true);
    expect(problemOf(parseDocument(uses(fits + 1), 'big.yaml'))).toMatch(/YAML aliases expand too much/);
  });

  it('§2 an alias of an anchor that itself holds aliases counts its whole expansion', () => {
    // c = 10 b = 100 a: 1 + 10 * (1 + 10 * (1 + 10)) = 1111 nodes once expanded.
    const text = 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n';
    const value = valueOf(parseDocument(text, 'nested.yaml')) as { c: string[][][] };
    expect(value.c.flat(2)).toHaveLength(1000);
  });

  it('§2 a YAML alias inside its own anchor (a cycle) is refused', () => {
    expect(problemOf(parseDocument('a: &x {b: *x}\n', 'cycle.yaml'))).toMatch(/cycle/);
  });

  it('§2 an alias to a missing anchor is refused', () => {
    expect(problemOf(parseDocument('a: *nowhere\n', 'job.yaml'))).toMatch(/^job\.yaml(:\d+:\d+)?: .*alias/i);
  });

  it.each([
    ['JSON arrays', '['.repeat(20_000) + ']'.repeat(20_000)],
    ['JSON objects', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)],
    ['YAML flow mappings', '{a: '.repeat(20_000) + '1' + '}'.repeat(20_000)],
    ['YAML block sequences', '- '.repeat(20_000) + 'x\n'],
    ['YAML block mappings', Array.from({ length: MAX_DEPTH + 2 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')],
  ])('§2 a document nested 20,000 levels deep (%s) is refused', (_, text) => {
    expect(problemOf(parseDocument(text, 'deep'))).toMatch(/^deep(:\d+:\d+)?: nested too deeply/);
  });

  it('§2 a document nested exactly MAX_DEPTH levels is read', () => {
    const text = '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH);
    expect(parseDocument(text, 'deep.json').ok).toBe(true);
    expect(parseDocument(`x: ${text}`, 'deep.yaml').ok).toBe(false);
    expect(parseDocument(`x: ${'['.repeat(MAX_DEPTH - 1)}${']'.repeat(MAX_DEPTH - 1)}`, 'deep.yaml').ok).toBe(true);
  });

  it('§2 a JSON document of tens of MB is read', () => {
    const items = Array.from({ length: 400_000 }, (_, i) => ({ id: `item-${i}`, value: 'some text here' }));
    const text = JSON.stringify({ name: 'x', config: { items } });
    expect(text.length).toBeGreaterThan(15_000_000);
    const value = valueOf(parseDocument(text, 'big.json')) as { config: { items: unknown[] } };
    expect(value.config.items).toHaveLength(400_000);
  });

  it('§2 a YAML document past MAX_YAML_BYTES, or any past MAX_BYTES, fails cleanly', () => {
    const bigYaml = `name: x\nconfig: "${'y'.repeat(MAX_YAML_BYTES)}"\n`;
    expect(problemOf(parseDocument(bigYaml, 'big.yaml'))).toBe(
      'big.yaml: file is too large for YAML (4.0 MiB; YAML is read up to 4 MiB): write large fleets as generated groups, or as JSON',
    );
    // The limit counts UTF-8 bytes, not characters.
    const wide = `name: x\nconfig: "${'é'.repeat(MAX_YAML_BYTES / 2)}"\n`;
    expect(problemOf(parseDocument(wide, 'wide.yaml'))).toMatch(/^wide\.yaml: file is too large for YAML/);
    const brokenBigJson = `{"name": "x", "config": "${'y'.repeat(MAX_YAML_BYTES)}"`;
    expect(problemOf(parseDocument(brokenBigJson, 'big.json'))).toMatch(/^big\.json: invalid JSON: /);
    expect(problemOf(parseDocument(new Uint8Array(MAX_BYTES + 1), 'huge'))).toMatch(/^huge: file is too large/);
  });

  it('§2 parseDocument should never throw, whatever the text or bytes', () => {
    const yamlish = fc.stringMatching(/^[-\][{}:,&*!?|>'"#%@` \na-z0-9.]{0,60}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), yamlish, fc.uint8Array()), (input) => {
        const result = parseDocument(input, 'random');
        if (!result.ok) expect(result.problem.message).toMatch(/^random/);
      }),
      { numRuns: 500 },
    );
  });
});
