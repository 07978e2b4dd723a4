import { describe, expect, it } from 'vitest';
import { formatRequirement, parseSelectorExpression, type Requirement } from '../src/selector/index.js';

function parsed(text: string): Requirement[] {
  const result = parseSelectorExpression(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${result.message}`);
  return result.requirements;
}

function failure(text: string): { column: number; message: string } {
  const result = parseSelectorExpression(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result.requirements)}`);
  return { column: result.column, message: result.message };
}

describe('§3 expression grammar: each form', () => {
  it.each([
    ['region=us-east', { key: 'region', operator: 'in', values: ['us-east'] }],
    ['region==us-east', { key: 'region', operator: 'in', values: ['us-east'] }],
    ['environment!=prod', { key: 'environment', operator: 'notin', values: ['prod'] }],
    ['tier in (premium,standard)', { key: 'tier', operator: 'in', values: ['premium', 'standard'] }],
    ['tier notin (premium,standard)', { key: 'tier', operator: 'notin', values: ['premium', 'standard'] }],
    ['gpu', { key: 'gpu', operator: 'exists', values: [] }],
    ['!gpu', { key: 'gpu', operator: 'absent', values: [] }],
  ])('§3 %s', (text, requirement) => {
    expect(parsed(text)).toEqual([requirement]);
  });

  it('§3 a one-value set is the same requirement as the equality form', () => {
    expect(parsed('tier in (gold)')).toEqual(parsed('tier=gold'));
    expect(parsed('tier notin (gold)')).toEqual(parsed('tier!=gold'));
  });

  it('§3 duplicate values in a set are dropped, the written order kept', () => {
    expect(parsed('tier in (b,a,b)')).toEqual([{ key: 'tier', operator: 'in', values: ['b', 'a'] }]);
  });

  it('§3 keys may carry a DNS prefix; names and values hold letters, digits, "-", "_", "."', () => {
    expect(parsed('expanso.io/zone=eu-1.b_2')).toEqual([{ key: 'expanso.io/zone', operator: 'in', values: ['eu-1.b_2'] }]);
    expect(parsed('Node_Role.v2=A')).toEqual([{ key: 'Node_Role.v2', operator: 'in', values: ['A'] }]);
  });

  it('§3 "in" and "notin" are operators only after a key, so they may also be keys and values', () => {
    expect(parsed('in in (in,notin)')).toEqual([{ key: 'in', operator: 'in', values: ['in', 'notin'] }]);
    expect(parsed('notin')).toEqual([{ key: 'notin', operator: 'exists', values: [] }]);
    expect(parsed('!in')).toEqual([{ key: 'in', operator: 'absent', values: [] }]);
  });
});

describe('§3 v1.1 empty values and sets, as in Kubernetes', () => {
  it.each([
    ['zone=', [{ key: 'zone', operator: 'in', values: [''] }]],
    ['zone==', [{ key: 'zone', operator: 'in', values: [''] }]],
    ['zone != ', [{ key: 'zone', operator: 'notin', values: [''] }]],
    ['zone=,a', [{ key: 'zone', operator: 'in', values: [''] }, { key: 'a', operator: 'exists', values: [] }]],
    ['zone in ()', [{ key: 'zone', operator: 'in', values: [] }]],
    ['zone notin ( )', [{ key: 'zone', operator: 'notin', values: [] }]],
    ['zone in (a,)', [{ key: 'zone', operator: 'in', values: ['a'] }]],
    ['zone in (a, b ,)', [{ key: 'zone', operator: 'in', values: ['a', 'b'] }]],
    ['zone in (a,,)', [{ key: 'zone', operator: 'in', values: ['a', ''] }]],
    ['zone in (,a)', [{ key: 'zone', operator: 'in', values: ['', 'a'] }]],
    ['zone in (,)', [{ key: 'zone', operator: 'in', values: [''] }]],
    ['zone in (a,,b)', [{ key: 'zone', operator: 'in', values: ['a', '', 'b'] }]],
  ])('§3 %j', (text, requirements) => {
    expect(parsed(text)).toEqual(requirements);
  });

  it('§3 "x in (a,)" is "x in (a)"; a one-value set is the equality form', () => {
    expect(parsed('x in (a,)')).toEqual(parsed('x in (a)'));
    expect(parsed('x in (a,)')).toEqual(parsed('x=a'));
  });

  it('§3 the canonical text of empty values and sets parses back to the same requirement', () => {
    for (const text of ['x=', 'x!=', 'x in ()', 'x notin ()', 'x in (a,,)', 'x in (,a)', 'x notin (a,,b)', 'x>7', 'x<0']) {
      const [requirement] = parsed(text);
      expect(parsed(formatRequirement(requirement!))).toEqual([requirement]);
    }
    expect(parsed('x in (a,,)').map(formatRequirement)).toEqual(['x in (a,,)']);
    expect(parsed('x in ( )').map(formatRequirement)).toEqual(['x in ()']);
  });
});

describe('§3 ">" and "<" compare integers, as in Kubernetes (docs/selection.md)', () => {
  it.each([
    ['cores>4', [{ key: 'cores', operator: 'gt', values: ['4'] }]],
    ['cores < 16', [{ key: 'cores', operator: 'lt', values: ['16'] }]],
    ['cores>0,cores<9223372036854775807', [{ key: 'cores', operator: 'gt', values: ['0'] }, { key: 'cores', operator: 'lt', values: ['9223372036854775807'] }]],
  ])('§3 %j', (text, requirements) => {
    expect(parsed(text)).toEqual(requirements);
  });
});

describe('§3 whitespace between tokens is ignored', () => {
  it.each([
    ['  region = us-east  ', 'region=us-east'],
    ['region\t==\tus-east', 'region=us-east'],
    ['region !=  prod', 'region!=prod'],
    ['tier in(a,b)', 'tier in (a,b)'],
    ['tier\nnotin ( a , b )', 'tier notin (a,b)'],
    ['! gpu', '!gpu'],
    ['\r\n gpu \r\n', 'gpu'],
  ])('§3 %j reads like %j', (spaced, tight) => {
    expect(parsed(spaced)).toEqual(parsed(tight));
  });
});

describe('§3 several requirements in one string', () => {
  it('§3 requirements are separated by commas outside parentheses, in order', () => {
    expect(parsed('region=us-east, tier in (gold,silver), !gpu, ssd')).toEqual([
      { key: 'region', operator: 'in', values: ['us-east'] },
      { key: 'tier', operator: 'in', values: ['gold', 'silver'] },
      { key: 'gpu', operator: 'absent', values: [] },
      { key: 'ssd', operator: 'exists', values: [] },
    ]);
  });

  it('§3 commas inside parentheses separate values, not requirements', () => {
    expect(parsed('a in (x,y),b notin (z,w)')).toEqual([
      { key: 'a', operator: 'in', values: ['x', 'y'] },
      { key: 'b', operator: 'notin', values: ['z', 'w'] },
    ]);
  });
});

describe('§3 errors name the column, what was expected and what was found', () => {
  it.each([
    ['', 1, 'empty expression: expected at least one requirement, such as "region=us-east"'],
    ['   ', 1, 'empty expression: expected at least one requirement, such as "region=us-east"'],
    ['zone===a', 7, 'expected a value after "==" at column 7, found "="'],
    ['a=b,', 5, 'expected a key or "!" after "," at column 5, found end of input'],
    [',a', 1, 'expected a key or "!" at column 1, found ","'],
    ['a,,b', 3, 'expected a key or "!" after "," at column 3, found ","'],
    ['!', 2, 'expected a key after "!" at column 2, found end of input'],
    ['!=a', 1, 'expected a key or "!" at column 1, found "!="'],
    ['!a=b', 3, 'expected "," or end of input after a requirement at column 3, found "="'],
    ['a b', 3, 'expected "=", "==", "!=", ">", "<", "in", "notin", "," or end of input after the key "a" at column 3, found "b"'],
    ['a IN (x)', 3, 'expected "=", "==", "!=", ">", "<", "in", "notin", "," or end of input after the key "a" at column 3, found "IN"'],
    ['a in x', 6, 'expected "(" after "in" at column 6, found "x"'],
    ['a notin', 8, 'expected "(" after "notin" at column 8, found end of input'],
    ['zone in (,', 11, 'expected "," or ")" in the list of values at column 11, found end of input'],
    ['zone>', 6, 'expected an integer after ">" at column 6, found end of input'],
    ['zone<=3', 6, 'expected an integer after "<" at column 6, found "="'],
    ['zone>v2', 6, 'invalid value "v2" at column 6: ">" compares whole numbers: expected an integer from 0 to 9223372036854775807'],
    ['zone>9223372036854775808', 6, 'invalid value "9223372036854775808" at column 6: ">" compares whole numbers: expected an integer from 0 to 9223372036854775807'],
    ['zone>1.5', 6, 'invalid value "1.5" at column 6: ">" compares whole numbers: expected an integer from 0 to 9223372036854775807'],
    ['a in (x', 8, 'expected "," or ")" in the list of values at column 8, found end of input'],
    ['a in (x y)', 9, 'expected "," or ")" in the list of values at column 9, found "y"'],
    ['a in (x)), b', 9, 'expected "," or end of input after a requirement at column 9, found ")"'],
    ['a=b;c=d', 4, 'expected "," or end of input after a requirement at column 4, found ";"'],
    ['region=é', 8, 'expected a value after "=" at column 8, found "é"'],
    ['a=b,😀', 5, 'expected a key or "!" after "," at column 5, found "😀"'],
    ['a=\u0000', 3, 'expected a value after "=" at column 3, found "\\u0000"'],
  ])('§3 %j fails at column %i', (text, column, message) => {
    expect(failure(text)).toEqual({ column, message });
  });

  it.each([
    ['__proto__', 1, 'invalid key "__proto__" at column 1: a key must start and end with a letter or digit'],
    ['a-=b', 1, 'invalid key "a-" at column 1: a key must start and end with a letter or digit'],
    ['a/b/c', 1, 'invalid key "a/b/c" at column 1: a key may contain at most one "/"'],
    ['/a', 1, 'invalid key "/a" at column 1: the prefix before "/" is empty'],
    ['!a/', 2, 'invalid key "a/" at column 2: the name after "/" is empty'],
    ['Expanso.io/zone', 1, 'invalid key "Expanso.io/zone" at column 1: the prefix before "/" must be a DNS subdomain: lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit'],
    ['a..b/zone', 1, 'invalid key "a..b/zone" at column 1: the prefix before "/" must be a DNS subdomain: lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit'],
    ['x.io/_zone', 1, 'invalid key "x.io/_zone" at column 1: the name after "/" must start and end with a letter or digit'],
    ['a=-x', 3, 'invalid value "-x" at column 3: a value must start and end with a letter or digit'],
    ['a in (x, y/z)', 10, 'invalid value "y/z" at column 10: a value may not contain "/"'],
  ])('§3 key and value character rules: %j', (text, column, message) => {
    expect(failure(text)).toEqual({ column, message });
  });
});

describe('§3 parsing is linear in the input length (large adversarial inputs finish within the test timeout)', () => {
  const size = 1 << 20;

  it('§3 a 1 MB run of "(" fails at once', () => {
    expect(failure('('.repeat(size)).column).toBe(1);
  });

  it('§3 a key followed by 1 MB of "(" fails after "in"', () => {
    expect(failure(`a in ${'('.repeat(size)}`)).toMatchObject({ column: 7 });
  });

  it('§3 a 1 MB key parses, and an error after it quotes it briefly', () => {
    const key = 'k'.repeat(size);
    expect(parsed(key)).toEqual([{ key, operator: 'exists', values: [] }]);
    const { column, message } = failure(`${key} x`);
    expect(column).toBe(size + 2);
    expect(message.length).toBeLessThan(200);
  });

  it('§3 a 1 MB value list parses; unclosed, it fails at the end', () => {
    const list = Array.from({ length: size / 8 }, (_, i) => `v${i}`).join(',');
    expect(parsed(`a in (${list})`)[0]?.values).toHaveLength(size / 8);
    expect(failure(`a in (${list}`).column).toBe(list.length + 7);
  });

  it('§3 1 MB of requirements parses; with a bad last character it fails at the end', () => {
    const many = Array.from({ length: size / 8 }, () => '!a,b!=c').join(',');
    expect(parsed(many)).toHaveLength(size / 4);
    expect(failure(`${many}(`).column).toBe(many.length + 1);
  });

  it('§3 1 MB of alternating "!" and "=" fails at once', () => {
    expect(failure('!='.repeat(size / 2)).column).toBe(1);
    expect(failure(`a${'='.repeat(size)}`).column).toBe(4);
  });
});
