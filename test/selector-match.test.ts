import { describe, expect, it } from 'vitest';
import {
  compileMatcher,
  compileSelector,
  InvalidSelectorExpressionError,
  type FleetNode,
  type SelectorInput,
} from '../src/selector/index.js';

function node(id: string, labels: Record<string, string>, connected = true): FleetNode {
  return { id, labels, connected };
}

const fleet: FleetNode[] = [
  node('n1', { region: 'us-east', tier: 'gold' }),
  node('n2', { region: 'us-west', tier: 'silver' }),
  node('n3', { region: 'eu-1' }),
  node('n4', { region: 'us-east', tier: 'bronze', gpu: 'a100' }),
];

function eligibleIds(selector: SelectorInput, nodes: FleetNode[] = fleet): string[] {
  const isEligible = compileSelector(selector);
  return nodes.filter(isEligible).map((n) => n.id);
}

function byExpression(expression: string): string[] {
  return eligibleIds({ match_expressions: [expression] });
}

describe('§3 each expression form selects the expected nodes', () => {
  it.each([
    ['region=us-east', ['n1', 'n4']],
    ['region==us-west', ['n2']],
    ['tier in (gold,silver)', ['n1', 'n2']],
    ['gpu', ['n4']],
    ['!gpu', ['n1', 'n2', 'n3']],
    ['region=us-east,tier=bronze', ['n4']],
    ['region in (us-east,eu-1), !gpu', ['n1', 'n3']],
  ])('§3 %s', (expression, ids) => {
    expect(byExpression(expression)).toEqual(ids);
  });

  it('§3 "!=" also matches nodes that lack the key', () => {
    expect(byExpression('tier!=gold')).toEqual(['n2', 'n3', 'n4']);
  });

  it('§3 "notin" also matches nodes that lack the key', () => {
    expect(byExpression('tier notin (gold,silver)')).toEqual(['n3', 'n4']);
  });

  it('§3 "=" and "in" never match nodes that lack the key', () => {
    expect(byExpression('tier in (gold,silver,bronze)')).toEqual(['n1', 'n2', 'n4']);
  });

  it('§3 every match_expressions entry must hold', () => {
    expect(eligibleIds({ match_expressions: ['region=us-east', 'tier!=gold'] })).toEqual(['n4']);
  });
});

describe('§3 match_labels, match_ids and their combination', () => {
  it('§3 every match_labels pair must match exactly', () => {
    expect(eligibleIds({ match_labels: { region: 'us-east' } })).toEqual(['n1', 'n4']);
    expect(eligibleIds({ match_labels: { region: 'us-east', tier: 'gold' } })).toEqual(['n1']);
    expect(eligibleIds({ match_labels: { region: 'US-EAST' } })).toEqual([]);
  });

  it('§3 match_labels may name keys and values that expressions cannot (empty value, any characters)', () => {
    const nodes = [node('a', { 'odd key': '' }), node('b', { 'odd key': 'x y' }), node('c', {})];
    expect(eligibleIds({ match_labels: { 'odd key': '' } }, nodes)).toEqual(['a']);
    expect(eligibleIds({ match_labels: { 'odd key': 'x y' } }, nodes)).toEqual(['b']);
  });

  it('§3 a non-empty match_ids keeps only the listed nodes; an empty one constrains nothing', () => {
    expect(eligibleIds({ match_ids: ['n3', 'n1', 'unknown'] })).toEqual(['n1', 'n3']);
    expect(eligibleIds({ match_ids: [] })).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('§3 a node must match every part: labels, expressions and ids', () => {
    const selector = { match_labels: { region: 'us-east' }, match_expressions: ['!gpu'], match_ids: ['n1', 'n2', 'n4'] };
    expect(eligibleIds(selector)).toEqual(['n1']);
  });

  it('§3 no selector matches every connected node', () => {
    expect(eligibleIds({})).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(eligibleIds({ match_labels: {}, match_expressions: [], match_ids: [] })).toEqual(['n1', 'n2', 'n3', 'n4']);
  });
});

describe('§3 only connected nodes are eligible', () => {
  const nodes = [node('up', { role: 'app' }), node('down', { role: 'app' }, false)];

  it('§3 a disconnected node is never eligible, even when it matches', () => {
    expect(eligibleIds({ match_labels: { role: 'app' } }, nodes)).toEqual(['up']);
    expect(eligibleIds({ match_ids: ['down'] }, nodes)).toEqual([]);
    expect(eligibleIds({}, nodes)).toEqual(['up']);
  });

  it('§3 compileMatcher matches labels and ids whatever the connection', () => {
    expect(nodes.filter(compileMatcher({ match_labels: { role: 'app' } })).map((n) => n.id)).toEqual(['up', 'down']);
  });
});

describe('§3 label keys named like Object.prototype members are ordinary keys', () => {
  const protoNamed = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];
  const bare = node('bare', {});
  const nullPrototype = node('null-prototype', Object.assign(Object.create(null) as Record<string, string>, { tier: 'gold' }));

  it.each(protoNamed.filter((k) => k !== '__proto__'))('§3 %s: exists, absent, =, != and notin treat it as missing when it is', (key) => {
    const labelled = node('labelled', { [key]: 'yes' });
    const nodes = [bare, labelled, nullPrototype];
    expect(eligibleIds({ match_expressions: [key] }, nodes)).toEqual(['labelled']);
    expect(eligibleIds({ match_expressions: [`!${key}`] }, nodes)).toEqual(['bare', 'null-prototype']);
    expect(eligibleIds({ match_expressions: [`${key}=yes`] }, nodes)).toEqual(['labelled']);
    expect(eligibleIds({ match_expressions: [`${key}!=yes`] }, nodes)).toEqual(['bare', 'null-prototype']);
    expect(eligibleIds({ match_expressions: [`${key} notin (yes,no)`] }, nodes)).toEqual(['bare', 'null-prototype']);
  });

  it.each(protoNamed)('§3 match_labels { %s: ... } matches only a node that has that own label', (key) => {
    // JSON.parse makes "__proto__" an own property, as a JobSpec or fleet file would.
    const labels = JSON.parse(`{"${key}": "yes"}`) as Record<string, string>;
    const selector = { match_labels: JSON.parse(`{"${key}": "yes"}`) as Record<string, string> };
    expect(eligibleIds(selector, [bare, node('labelled', labels), nullPrototype])).toEqual(['labelled']);
  });

  it('§3 a label on a null-prototype object is found', () => {
    expect(eligibleIds({ match_expressions: ['tier=gold'] }, [bare, nullPrototype])).toEqual(['null-prototype']);
  });
});

describe('§3 v1.1 empty values and sets select as the contract says', () => {
  const labelled = [node('e', { zone: '' }), node('a', { zone: 'a' }), node('none', {}), node('big', { zone: '12', cores: '+16' })];
  it.each([
    ['zone=', ['e']],
    ['zone!=', ['a', 'none', 'big']],
    ['zone in ()', []],
    ['zone notin ()', ['e', 'a', 'none', 'big']],
    ['zone in (a,)', ['a']],
    ['zone in (a,,)', ['e', 'a']],
    ['zone notin (a,,)', ['none', 'big']],
  ])('§3 %s', (expression, ids) => {
    expect(eligibleIds({ match_expressions: [expression] }, labelled)).toEqual(ids);
  });

  it('§3 ">" and "<" hold only for labels that are integers (Go ParseInt rules: a sign, digits, 64 bits)', () => {
    const nodes = [
      node('n5', { cores: '5' }),
      node('plus', { cores: '+16' }),
      node('neg', { cores: '-2' }),
      node('text', { cores: 'v8' }),
      node('huge', { cores: '99999999999999999999' }),
      node('none', {}),
    ];
    expect(eligibleIds({ match_expressions: ['cores>4'] }, nodes)).toEqual(['n5', 'plus']);
    expect(eligibleIds({ match_expressions: ['cores<5'] }, nodes)).toEqual(['neg']);
    expect(eligibleIds({ match_expressions: ['cores>0,cores<10'] }, nodes)).toEqual(['n5']);
  });
});

describe('§3 an expression that does not parse', () => {
  it('§3 compileSelector throws an error naming the expression and the column', () => {
    let thrown: unknown;
    try {
      compileSelector({ match_expressions: ['region=us-east', 'zone in ('] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidSelectorExpressionError);
    expect(thrown).toMatchObject({
      expression: 'zone in (',
      column: 10,
      message: 'invalid selector expression "zone in (": expected "," or ")" in the list of values at column 10, found end of input',
    });
  });
});
