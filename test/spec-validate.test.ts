import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadJobSpec, validateJobSpec } from '../src/spec/index.js';
import type { JobSpec, Problem, ValidationResult } from '../src/spec/types.js';

type Json = Record<string, unknown>;

const minimal = (): Json => ({ name: 'log-processor', type: 'pipeline' });
const rolling = (deployment: Json = {}): Json => ({
  ...minimal(),
  deployment: { strategy: 'rolling', health_check: { deadline: '5m' }, ...deployment },
});
const canary = (deployment: Json = {}): Json => ({
  ...minimal(),
  deployment: { strategy: 'canary', canary_count: 1, health_check: { deadline: '5m' }, ...deployment },
});

function specOf(value: unknown): JobSpec {
  const result = validateJobSpec(value);
  if (!result.valid) throw new Error(`expected a valid spec, got ${JSON.stringify(result.errors)}`);
  return result.spec;
}

function errorsOf(value: unknown): Problem[] {
  const result = validateJobSpec(value);
  if (result.valid) throw new Error(`expected errors, got a valid spec ${JSON.stringify(result.spec)}`);
  return result.errors;
}

const warningsOf = (value: unknown): Problem[] => validateJobSpec(value).warnings;

/** The single error of `value`, which must be at `path`. */
function errorAt(value: unknown, path: string): string {
  const errors = errorsOf(value);
  expect(errors.map((error) => error.path)).toEqual([path]);
  return (errors[0] as Problem).message;
}

describe('§2 name', () => {
  it('§2 name: required', () => {
    expect(errorAt({ type: 'query' }, 'name')).toMatch(/^required; expected a name/);
  });
  it('§2 name: non-empty', () => {
    expect(errorAt({ ...minimal(), name: '' }, 'name')).toBe('expected a non-empty name, found ""');
  });
  it.each(['log processor', 'a\tb', 'team/job', 'x\n'])('§2 name: no whitespace or "/" (%j)', (name) => {
    expect(errorAt({ ...minimal(), name }, 'name')).toBe(
      `expected a name without whitespace or "/", found ${JSON.stringify(name)}`,
    );
  });
  it('§2 name: at most 253 characters', () => {
    expect(specOf({ ...minimal(), name: 'n'.repeat(253) }).name).toHaveLength(253);
    expect(errorAt({ ...minimal(), name: 'n'.repeat(254) }, 'name')).toBe('expected at most 253 characters, found 254');
  });
  it('§2 name: a string', () => {
    expect(errorAt({ ...minimal(), name: 42 }, 'name')).toBe('expected a name string, found 42');
  });
});

describe('§2 type', () => {
  it('§2 type: required', () => {
    expect(errorAt({ name: 'x' }, 'type')).toMatch(/^required; expected one of "pipeline", "query", "update", "config"/);
  });
  it.each(['pipeline', 'query', 'update', 'config'])('§2 type: %s is accepted', (type) => {
    expect(specOf({ name: 'x', type }).type).toBe(type);
  });
  it('§2 type: anything else, with a hint', () => {
    expect(errorAt({ name: 'x', type: 'pipelin' }, 'type')).toBe(
      'expected one of "pipeline", "query", "update", "config", found "pipelin"; did you mean "pipeline"?',
    );
    expect(errorAt({ name: 'x', type: 'batch' }, 'type')).toBe(
      'expected one of "pipeline", "query", "update", "config", found "batch"',
    );
  });
});

describe('§2 namespace', () => {
  it('§2 namespace: default "default"', () => {
    expect(specOf(minimal()).namespace).toBe('default');
  });
  it('§2 namespace: same character rule as name', () => {
    expect(specOf({ ...minimal(), namespace: 'production' }).namespace).toBe('production');
    expect(errorAt({ ...minimal(), namespace: 'prod/eu' }, 'namespace')).toBe(
      'expected a namespace without whitespace or "/", found "prod/eu"',
    );
    expect(errorAt({ ...minimal(), namespace: '' }, 'namespace')).toBe('expected a non-empty namespace, found ""');
  });
});

describe('§2 priority', () => {
  it('§2 priority: default 50; explicit 0 and 100 stay', () => {
    expect(specOf(minimal()).priority).toBe(50);
    expect(specOf({ ...minimal(), priority: 0 }).priority).toBe(0);
    expect(specOf({ ...minimal(), priority: 100 }).priority).toBe(100);
  });
  it.each<[unknown, string]>([
    [150, '150'],
    [-1, '-1'],
    [1.5, '1.5'],
    ['5', '"5"'],
    [null, 'null'],
    [true, 'true'],
    [1e20, '100000000000000000000'],
  ])('§2 priority: integer 0..100, not %j', (priority, found) => {
    expect(errorAt({ ...minimal(), priority }, 'priority')).toBe(`expected an integer 0..100, found ${found}`);
  });
});

describe('§2 labels and meta', () => {
  it('§2 labels, meta: default empty maps', () => {
    const spec = specOf(minimal());
    expect(spec.labels).toEqual({});
    expect(spec.meta).toEqual({});
  });
  it('§2 labels: string to string', () => {
    expect(specOf({ ...minimal(), labels: { env: 'production' } }).labels).toEqual({ env: 'production' });
    expect(errorAt({ ...minimal(), labels: { env: 5 } }, 'labels.env')).toBe(
      'expected a string, found 5 (put it in quotes to keep it a string)',
    );
    expect(errorAt({ ...minimal(), labels: ['env=prod'] }, 'labels')).toBe(
      'expected a map of label names to values, found a list of 1',
    );
  });
  it('§2 meta: keys starting "expanso.io/" are reserved', () => {
    expect(errorAt({ ...minimal(), meta: { 'expanso.io/owner': 'me' } }, 'meta["expanso.io/owner"]')).toBe(
      'keys starting "expanso.io/" are reserved for the system, found "expanso.io/owner"',
    );
    expect(specOf({ ...minimal(), meta: { 'expanso.iox': 'a', 'team/expanso.io/': 'b' } }).meta).toEqual({
      'expanso.iox': 'a',
      'team/expanso.io/': 'b',
    });
  });
  it('§2 labels: __proto__ and constructor are plain keys that survive normalization', () => {
    const input = JSON.parse('{"name":"x","type":"query","labels":{"__proto__":"a","constructor":"b"},"meta":{"toString":"c"}}');
    const spec = specOf(input);
    expect(Object.hasOwn(spec.labels, '__proto__')).toBe(true);
    expect(spec.labels['__proto__']).toBe('a');
    expect(spec.labels['constructor']).toBe('b');
    expect(Object.keys(spec.labels)).toEqual(['__proto__', 'constructor']);
    expect(JSON.stringify(spec.labels)).toBe('{"__proto__":"a","constructor":"b"}');
    // No prototype lookups: a missing key reads as undefined.
    expect(spec.meta['hasOwnProperty']).toBeUndefined();
    expect(({} as Record<string, unknown>)['toString']).toBeDefined();
  });
  it('§2 labels: a __proto__ key must hold a string too', () => {
    const input = JSON.parse('{"name":"x","type":"query","labels":{"__proto__":5}}');
    expect(errorAt(input, 'labels.__proto__')).toBe('expected a string, found 5');
  });
});

describe('§2 deployment', () => {
  it('§2 deployment: absent means strategy immediate, with every default', () => {
    expect(specOf(minimal()).deployment).toEqual({
      strategy: 'immediate',
      max_parallel: 1,
      canary_count: 0,
      canary_percent: 0,
      auto_promote: false,
      no_auto_rollback: false,
      max_failed_nodes: 10,
      max_failed_nodes_percent: 10,
    });
  });
  it('§2 deployment: present without strategy means immediate', () => {
    expect(specOf({ ...minimal(), deployment: {} }).deployment.strategy).toBe('immediate');
  });
  it('§2 deployment: an object', () => {
    expect(errorAt({ ...minimal(), deployment: 'rolling' }, 'deployment')).toBe(
      'expected a deployment object, found "rolling"',
    );
  });
  it('§2 deployment.strategy: immediate, rolling or canary', () => {
    expect(specOf(rolling()).deployment.strategy).toBe('rolling');
    expect(specOf(canary()).deployment.strategy).toBe('canary');
    expect(errorAt(rolling({ strategy: 'Rolling' }), 'deployment.strategy')).toBe(
      'expected one of "immediate", "rolling", "canary", found "Rolling"; did you mean "rolling"?',
    );
  });
});

describe('§2 deployment.max_parallel', () => {
  it('§2 max_parallel: default 1', () => {
    expect(specOf(rolling()).deployment.max_parallel).toBe(1);
  });
  it('§2 max_parallel: integer >= 0', () => {
    expect(specOf(rolling({ max_parallel: 25 })).deployment.max_parallel).toBe(25);
    expect(errorAt(rolling({ max_parallel: -1 }), 'deployment.max_parallel')).toBe('expected an integer >= 0, found -1');
    expect(errorAt(rolling({ max_parallel: 2.5 }), 'deployment.max_parallel')).toBe('expected an integer >= 0, found 2.5');
  });
  it('§2 max_parallel: explicit 0 under rolling stays 0, with a warning', () => {
    const result = validateJobSpec(rolling({ max_parallel: 0 }));
    expect(result.valid && result.spec.deployment.max_parallel).toBe(0);
    expect(result.warnings).toEqual([
      { path: 'deployment.max_parallel', message: '0 means no bound: every targeted node updates at once' },
    ]);
  });
  it('§2 max_parallel: explicit 0 under canary earns no warning', () => {
    expect(warningsOf(canary({ max_parallel: 0 }))).toEqual([]);
  });
  it('§5 max_parallel: set under immediate is ignored, with a warning', () => {
    expect(warningsOf({ ...minimal(), deployment: { max_parallel: 5 } })).toEqual([
      { path: 'deployment.max_parallel', message: 'ignored: strategy "immediate" starts every node at once' },
    ]);
  });
});

describe('§2 deployment.canary_count / canary_percent', () => {
  it('§2 canary: needs canary_count > 0 or canary_percent > 0', () => {
    const deployment = { strategy: 'canary', health_check: { deadline: '5m' } };
    expect(errorAt({ ...minimal(), deployment }, 'deployment.canary_count')).toBe(
      'strategy "canary" needs canary_count > 0 or canary_percent > 0, found neither',
    );
    expect(errorAt({ ...minimal(), deployment: { ...deployment, canary_count: 0, canary_percent: 0 } }, 'deployment.canary_count')).toMatch(
      /needs canary_count > 0/,
    );
    expect(specOf({ ...minimal(), deployment: { ...deployment, canary_percent: 10 } }).deployment).toMatchObject({
      canary_count: 0,
      canary_percent: 10,
    });
  });
  it('§2 canary: count wins when both are set (warning)', () => {
    const result = validateJobSpec(canary({ canary_count: 3, canary_percent: 20 }));
    expect(result.valid && result.spec.deployment).toMatchObject({ canary_count: 3, canary_percent: 20 });
    expect(result.warnings).toEqual([
      { path: 'deployment.canary_percent', message: 'ignored: canary_count (3) wins over canary_percent (20)' },
    ]);
  });
  it('§2 canary_count: integer >= 0; canary_percent: integer 0..100', () => {
    expect(errorAt(canary({ canary_count: -1 }), 'deployment.canary_count')).toBe('expected an integer >= 0, found -1');
    expect(errorAt(canary({ canary_percent: 101 }), 'deployment.canary_percent')).toBe(
      'expected an integer 0..100, found 101',
    );
    expect(errorAt(canary({ canary_percent: 12.5 }), 'deployment.canary_percent')).toBe(
      'expected an integer 0..100, found 12.5',
    );
  });
  it('§2 canary settings outside canary are ignored, with a warning', () => {
    expect(warningsOf(rolling({ canary_count: 2 }))).toEqual([
      { path: 'deployment.canary_count', message: 'ignored: only strategy "canary" uses it' },
    ]);
  });
});

describe('§2 deployment.auto_promote / no_auto_rollback', () => {
  it('§2 auto_promote: boolean, default false', () => {
    expect(specOf(canary()).deployment.auto_promote).toBe(false);
    expect(specOf(canary({ auto_promote: true })).deployment.auto_promote).toBe(true);
    expect(errorAt(canary({ auto_promote: 'yes' }), 'deployment.auto_promote')).toBe(
      'expected true or false, found "yes"',
    );
  });
  it('§2 auto_promote: outside canary, a warning', () => {
    const result = validateJobSpec(rolling({ auto_promote: true }));
    expect(result.valid).toBe(true);
    expect(result.warnings).toEqual([
      { path: 'deployment.auto_promote', message: 'ignored: only strategy "canary" uses it' },
    ]);
  });
  it('§2 no_auto_rollback: boolean, default false', () => {
    expect(specOf(rolling()).deployment.no_auto_rollback).toBe(false);
    expect(specOf(rolling({ no_auto_rollback: true })).deployment.no_auto_rollback).toBe(true);
    expect(errorAt(rolling({ no_auto_rollback: 1 }), 'deployment.no_auto_rollback')).toBe(
      'expected true or false, found 1',
    );
  });
});

describe('§2 deployment.max_failed_nodes / max_failed_nodes_percent', () => {
  it('§2 max_failed_nodes: default 10; explicit 0 means zero tolerance', () => {
    expect(specOf(rolling()).deployment.max_failed_nodes).toBe(10);
    expect(specOf(rolling({ max_failed_nodes: 0 })).deployment.max_failed_nodes).toBe(0);
    expect(errorAt(rolling({ max_failed_nodes: -2 }), 'deployment.max_failed_nodes')).toBe(
      'expected an integer >= 0, found -2',
    );
  });
  it('§2 max_failed_nodes_percent: number 0..100, default 10.0', () => {
    expect(specOf(rolling()).deployment.max_failed_nodes_percent).toBe(10);
    expect(specOf(rolling({ max_failed_nodes_percent: 12.5 })).deployment.max_failed_nodes_percent).toBe(12.5);
    expect(specOf(rolling({ max_failed_nodes_percent: 0 })).deployment.max_failed_nodes_percent).toBe(0);
    expect(errorAt(rolling({ max_failed_nodes_percent: 100.5 }), 'deployment.max_failed_nodes_percent')).toBe(
      'expected a number 0..100, found 100.5',
    );
  });
});

describe('§2 deployment.health_check', () => {
  it.each(['rolling', 'canary'])('§2 health_check: required for %s', (strategy) => {
    const deployment = { strategy, canary_count: strategy === 'canary' ? 1 : undefined };
    expect(errorAt({ ...minimal(), deployment }, 'deployment.health_check')).toBe(
      `required for strategy "${strategy}"; expected an object with at least "deadline", found nothing`,
    );
  });
  it('§2 health_check: for immediate, ignored with a warning and kept in the normalized spec', () => {
    const result = validateJobSpec({ ...minimal(), deployment: { health_check: { deadline: '1m' } } });
    expect(result.warnings).toEqual([
      { path: 'deployment.health_check', message: 'ignored: strategy "immediate" does not check health' },
    ]);
    expect(result.valid && result.spec.deployment.health_check).toEqual({
      deadline: '1m',
      min_healthy_time: '30s',
      max_error_rate: 0.1,
    });
  });
  it('§2 health_check: still validated under immediate', () => {
    expect(errorAt({ ...minimal(), deployment: { health_check: {} } }, 'deployment.health_check.deadline')).toMatch(
      /^required; expected a Go duration > 0/,
    );
  });
  it('§2 health_check.deadline: required', () => {
    expect(errorAt(rolling({ health_check: {} }), 'deployment.health_check.deadline')).toBe(
      'required; expected a Go duration > 0 such as "300ms", "1.5h" or "2h45m"',
    );
  });
  it.each(['300ms', '1.5h', '2h45m', '.5s', '1h0m0s'])('§2 health_check.deadline: Go duration %j', (deadline) => {
    expect(specOf(rolling({ health_check: { deadline, min_healthy_time: '0s' } })).deployment.health_check?.deadline).toBe(
      deadline,
    );
  });
  it.each<[unknown, string]>([
    ['0s', 'found "0s"'],
    ['0', 'found "0"'],
    ['-5s', 'found "-5s"'],
    ['5 minutes', 'found "5 minutes": unknown unit " minutes" in duration "5 minutes"'],
    ['1d', 'found "1d": unknown unit "d" in duration "1d"'],
    ['30', 'found "30": missing unit in duration "30"'],
    [30, 'found 30'],
  ])('§2 health_check.deadline: > 0, not %j', (deadline, found) => {
    expect(errorAt(rolling({ health_check: { deadline } }), 'deployment.health_check.deadline')).toMatch(
      new RegExp(`^expected a Go duration > 0 such as .*, ${found.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });
  it('§2 health_check.min_healthy_time: default "30s"; "0s" allowed', () => {
    expect(specOf(rolling()).deployment.health_check?.min_healthy_time).toBe('30s');
    expect(specOf(rolling({ health_check: { deadline: '5m', min_healthy_time: '0s' } })).deployment.health_check?.min_healthy_time).toBe('0s');
  });
  it('§2 health_check.min_healthy_time: >= 0', () => {
    expect(
      errorAt(rolling({ health_check: { deadline: '5m', min_healthy_time: '-1s' } }), 'deployment.health_check.min_healthy_time'),
    ).toBe('expected a Go duration >= 0 such as "300ms", "1.5h" or "2h45m", found "-1s"');
  });
  it('§2 health_check.min_healthy_time: must be < deadline', () => {
    expect(
      errorAt(rolling({ health_check: { deadline: '1m', min_healthy_time: '60s' } }), 'deployment.health_check.min_healthy_time'),
    ).toBe('expected less than deadline ("1m"), found "60s"');
    // With the default min_healthy_time, the deadline is the field to change.
    expect(errorAt(rolling({ health_check: { deadline: '10s' } }), 'deployment.health_check.deadline')).toBe(
      'expected more than min_healthy_time (default "30s"), found "10s"',
    );
  });
  it('§2 health_check.max_error_rate: number 0..1, default 0.10, explicit 0 stays', () => {
    expect(specOf(rolling()).deployment.health_check?.max_error_rate).toBe(0.1);
    expect(specOf(rolling({ health_check: { deadline: '5m', max_error_rate: 0 } })).deployment.health_check?.max_error_rate).toBe(0);
    expect(
      errorAt(rolling({ health_check: { deadline: '5m', max_error_rate: 1.5 } }), 'deployment.health_check.max_error_rate'),
    ).toBe('expected a number 0..1, found 1.5');
  });
});

describe('§2 selector', () => {
  it('§2 selector: absent selects every node (empty parts)', () => {
    expect(specOf(minimal()).selector).toEqual({ match_labels: {}, match_expressions: [], match_ids: [] });
  });
  it('§2 selector: match_labels, match_expressions, match_ids kept', () => {
    const selector = { match_labels: { env: 'prod' }, match_expressions: ['tier in (a,b)', '!debug'], match_ids: ['n1'] };
    expect(specOf({ ...minimal(), selector }).selector).toEqual(selector);
  });
  it('§2 selector.match_expressions[i]: a parse error names the index and the column', () => {
    const selector = { match_expressions: ['region=us-east', 'gpu', 'tier in (a b)'] };
    const message = errorAt({ ...minimal(), selector }, 'selector.match_expressions[2]');
    expect(message).toMatch(/column 12/);
    expect(message).toMatch(/found "b"/);
  });
  it('§2 selector.match_expressions: strings', () => {
    expect(errorAt({ ...minimal(), selector: { match_expressions: ['a', 5] } }, 'selector.match_expressions[1]')).toBe(
      'expected a selector expression string, found 5',
    );
  });
});

describe('§2 timeouts', () => {
  it('§2 timeouts: default 0 (none)', () => {
    expect(specOf(minimal()).timeouts).toEqual({ execution_timeout: 0, queue_timeout: 0, total_timeout: 0 });
  });
  it('§2 timeouts.*: integer seconds >= 0', () => {
    for (const field of ['execution_timeout', 'queue_timeout', 'total_timeout']) {
      expect(errorAt({ ...minimal(), timeouts: { [field]: -1 } }, `timeouts.${field}`)).toBe(
        'expected an integer >= 0, found -1',
      );
      expect(errorAt({ ...minimal(), timeouts: { [field]: '60s' } }, `timeouts.${field}`)).toBe(
        'expected an integer >= 0, found "60s"',
      );
    }
  });
  it('§2 timeouts: when total_timeout > 0, queue_timeout and execution_timeout must not exceed it', () => {
    expect(specOf({ ...minimal(), timeouts: { total_timeout: 600, queue_timeout: 600, execution_timeout: 300 } }).timeouts).toEqual({
      total_timeout: 600,
      queue_timeout: 600,
      execution_timeout: 300,
    });
    expect(errorsOf({ ...minimal(), timeouts: { total_timeout: 600, queue_timeout: 601, execution_timeout: 900 } })).toEqual([
      { path: 'timeouts.queue_timeout', message: 'expected at most total_timeout (600), found 601' },
      { path: 'timeouts.execution_timeout', message: 'expected at most total_timeout (600), found 900' },
    ]);
  });
  it('§2 timeouts: total_timeout 0 bounds nothing', () => {
    expect(specOf({ ...minimal(), timeouts: { queue_timeout: 900, execution_timeout: 900 } }).timeouts.total_timeout).toBe(0);
  });
});

describe('§2 description and config', () => {
  it('§2 description: an optional string', () => {
    expect(specOf(minimal())).not.toHaveProperty('description');
    expect(specOf({ ...minimal(), description: 'logs' }).description).toBe('logs');
    expect(errorAt({ ...minimal(), description: ['a'] }, 'description')).toBe('expected a string, found a list of 1');
  });
  it('§2 config: free-form, never interpreted', () => {
    const config = { input: { file: { paths: ['/var/log/*.log'] } }, $where: 'x', __proto__x: [1, null, { deep: true }] };
    expect(specOf({ ...minimal(), config }).config).toEqual(config);
    expect(specOf({ ...minimal(), config: 'plain text' }).config).toBe('plain text');
    expect(specOf({ ...minimal(), config: null }).config).toBeNull();
    expect(specOf(minimal())).not.toHaveProperty('config');
  });
});

describe('§2 unknown fields', () => {
  it.each<[Json, string, string]>([
    [{ ...minimal(), nmae: 'x' }, 'nmae', 'unknown field `nmae`; did you mean `name`?'],
    [{ ...minimal(), deployment: { stratgy: 'rolling' } }, 'deployment.stratgy', 'unknown field `stratgy`; did you mean `strategy`?'],
    [rolling({ maxParallel: 2 }), 'deployment.maxParallel', 'unknown field `maxParallel`; did you mean `max_parallel`?'],
    [rolling({ health_check: { deadline: '5m', min_healty_time: '1s' } }), 'deployment.health_check.min_healty_time', 'unknown field `min_healty_time`; did you mean `min_healthy_time`?'],
    [{ ...minimal(), selector: { match_label: {} } }, 'selector.match_label', 'unknown field `match_label`; did you mean `match_labels`?'],
    [{ ...minimal(), strategy: 'rolling' }, 'strategy', 'unknown field `strategy`; did you mean `deployment.strategy`?'],
    [{ ...minimal(), deployment: { deadline: '5m' } }, 'deployment.deadline', 'unknown field `deadline`; did you mean `deployment.health_check.deadline`?'],
    [{ ...minimal(), timeouts: { total: 5 } }, 'timeouts.total', 'unknown field `total`; expected one of `execution_timeout`, `queue_timeout`, `total_timeout`'],
  ])('§2 unknown field with a "did you mean" hint (%#)', (value, path, message) => {
    expect(errorsOf(value)).toEqual([{ path, message }]);
  });
  it('§2 __proto__ and constructor at the top level are unknown fields, not prototype tricks', () => {
    const input = JSON.parse('{"name":"x","type":"query","__proto__":{"priority":5},"constructor":1}');
    expect(errorsOf(input).map((error) => error.path)).toEqual(['__proto__', 'constructor']);
  });
  it('§2 a key that is not an identifier is quoted in the path', () => {
    expect(errorsOf({ ...minimal(), 'my field': 1 })[0]?.path).toBe('["my field"]');
  });
});

describe('§2 the document as a whole', () => {
  it.each<[unknown, string]>([
    [null, 'null'],
    [[], 'an empty list'],
    ['name: x', '"name: x"'],
    [42, '42'],
  ])('§2 a top level that is not an object is one error at path "" (%j)', (value, found) => {
    expect(errorsOf(value)).toEqual([
      { path: '', message: `expected a JobSpec object (a mapping with at least "name" and "type"), found ${found}` },
    ]);
  });

  it('§2 every problem is reported at once', () => {
    const errors = errorsOf({
      name: 'a b',
      type: 'batch',
      priority: 101,
      labels: { env: 1 },
      deployment: { strategy: 'canary', max_parallel: -1, health_check: { deadline: '1m', min_healthy_time: '2m' } },
      selector: { match_expressions: ['a in (b'] },
      timeouts: { total_timeout: 5, queue_timeout: 6 },
      extra: true,
    });
    expect(errors.map((error) => error.path).sort()).toEqual(
      [
        'name',
        'type',
        'priority',
        'labels.env',
        'deployment.max_parallel',
        'deployment.canary_count',
        'deployment.health_check.min_healthy_time',
        'selector.match_expressions[0]',
        'timeouts.queue_timeout',
        'extra',
      ].sort(),
    );
  });

  it('§2 the reference example is valid and normalizes in a stable field order', () => {
    const result = loadJobSpec(
      JSON.stringify({
        config: { input: { file: { paths: ['/var/log/app/*.log'] } }, output: { stdout: {} } },
        description: 'Processes application logs from edge nodes',
        labels: { env: 'production', region: 'us-west', version: 'v1.2.0' },
        name: 'log-processor',
        namespace: 'production',
        priority: 50,
        selector: { match_labels: { env: 'production', role: 'app-server' } },
        type: 'pipeline',
      }),
      'job.json',
    );
    expect(result.valid).toBe(true);
    if (!result.valid) return;
    expect(Object.keys(result.spec)).toEqual([
      'name', 'namespace', 'type', 'description', 'priority', 'labels', 'meta', 'config', 'selector', 'deployment', 'timeouts',
    ]);
    expect(Object.keys(result.spec.deployment)).toEqual([
      'strategy', 'max_parallel', 'canary_count', 'canary_percent', 'auto_promote', 'no_auto_rollback',
      'max_failed_nodes', 'max_failed_nodes_percent',
    ]);
  });

  it('§2 loadJobSpec: a document that cannot be read is the single error', () => {
    expect(loadJobSpec('', 'job.yaml')).toEqual({
      valid: false,
      errors: [{ path: '', message: 'job.yaml: file is empty' }],
      warnings: [],
    });
    const yaml = 'name: log-processor\ntype: pipeline\ndeployment:\n  strategy: rolling\n  health_check:\n    deadline: 2h45m\n';
    const result = loadJobSpec(yaml, 'job.yaml');
    expect(result.valid && result.spec.deployment.health_check?.deadline).toBe('2h45m');
  });
});

/**
 * JobSpec-shaped values. `valid` draws every field from its valid domain (cross-field
 * rules may still fail); `junk` also puts arbitrary JSON and out-of-range values in places.
 */
function jobSpecLike(mode: 'valid' | 'junk') {
  const pick = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
    mode === 'valid'
      ? valid
      : fc.oneof({ weight: 8, arbitrary: valid }, { weight: 1, arbitrary: invalid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
  const count = pick(fc.nat(100), fc.constantFrom(-1, 2.5, 120, '5'));
  const validKey = fc.constantFrom('env', 'region', '__proto__', 'constructor', 'a.b', 'toString');
  const mapKey = mode === 'valid' ? validKey : fc.oneof(validKey, fc.constant('expanso.io/x'), fc.string());
  const stringMap = fc.dictionary(mapKey, pick(fc.string(), fc.integer()));
  const optional = { requiredKeys: [] as never[] };
  return fc.record(
    {
      name: pick(fc.constantFrom('job', 'log-processor', 'n'.repeat(253)), fc.constantFrom('a b', '', 'x/y')),
      type: pick(fc.constantFrom('pipeline', 'query', 'update', 'config'), fc.constant('batch')),
      namespace: pick(fc.constantFrom('default', 'prod'), fc.constant('a b')),
      description: pick(fc.string(), fc.integer()),
      priority: count,
      labels: stringMap,
      meta: stringMap,
      config: fc.jsonValue({ maxDepth: 3 }),
      deployment: fc.record(
        {
          strategy: pick(fc.constantFrom('immediate', 'rolling', 'canary'), fc.constant('blue-green')),
          max_parallel: count,
          canary_count: count,
          canary_percent: count,
          auto_promote: pick(fc.boolean(), fc.constant('yes')),
          no_auto_rollback: pick(fc.boolean(), fc.constant(1)),
          max_failed_nodes: count,
          max_failed_nodes_percent: pick(fc.double({ min: 0, max: 100, noNaN: true }), fc.constant(100.5)),
          health_check: fc.record(
            {
              deadline: pick(fc.constantFrom('5m', '1.5h', '2h45m'), fc.constantFrom('0s', '-1s', '10x', '1s')),
              min_healthy_time: pick(fc.constantFrom('0s', '1s', '30s', '300ms'), fc.constantFrom('-1s', '2h')),
              max_error_rate: pick(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(1.5)),
            },
            { requiredKeys: mode === 'valid' ? ['deadline'] : [] },
          ),
        },
        optional,
      ),
      selector: fc.record(
        {
          match_labels: stringMap,
          match_expressions: fc.array(pick(fc.constantFrom('a=b', 'tier in (x,y)', '!debug', 'gpu'), fc.constantFrom('a in (', '', '=x'))),
          match_ids: fc.array(pick(fc.string(), fc.integer())),
        },
        optional,
      ),
      timeouts: fc.record({ execution_timeout: count, queue_timeout: count, total_timeout: count }, optional),
    },
    { requiredKeys: mode === 'valid' ? ['name', 'type'] : [] },
  );
}

function isWellFormed(result: ValidationResult): boolean {
  const problems = result.valid ? result.warnings : [...result.errors, ...result.warnings];
  return (result.valid || result.errors.length > 0) && problems.every((p) => typeof p.path === 'string' && p.message.length > 0);
}

describe('§2 properties of the validator', () => {
  it('§2 the validator should never throw, on any JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => isWellFormed(validateJobSpec(value))));
  });

  it('§2 the validator should never throw, on any JavaScript value', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
      key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'name', 'type', 'labels', 'deployment')),
    });
    fc.assert(fc.property(anything, (value) => isWellFormed(validateJobSpec(value))));
  });

  it('§2 the validator should never throw on JobSpec-shaped values with junk in places', () => {
    fc.assert(fc.property(jobSpecLike('junk'), (value) => isWellFormed(validateJobSpec(value))), { numRuns: 500 });
  });

  it('§2 normalizing should be idempotent: a normalized spec, written as JSON, validates to the same JSON', () => {
    fc.assert(
      fc.property(jobSpecLike('valid'), (value) => {
        const result = validateJobSpec(value);
        if (!result.valid) return;
        const written = JSON.stringify(result.spec);
        const again = validateJobSpec(JSON.parse(written));
        expect(again.valid && JSON.stringify(again.spec)).toBe(written);
      }),
      { numRuns: 500 },
    );
  });

  it('§2 the JobSpec-shaped values hold valid specs often enough to test normalization', () => {
    const samples = fc.sample(jobSpecLike('valid'), { numRuns: 500, seed: 1 });
    const valid = samples.filter((value) => validateJobSpec(value).valid).length;
    expect(valid).toBeGreaterThan(100);
  });

  it('§2 defaults should fill only missing fields: every scalar given is kept as given', () => {
    fc.assert(
      fc.property(jobSpecLike('valid'), (value) => {
        const result = validateJobSpec(value);
        if (!result.valid) return;
        const given = value as Json;
        const spec = result.spec as unknown as Json;
        for (const field of ['name', 'namespace', 'type', 'priority', 'description']) {
          if (given[field] !== undefined) expect(spec[field]).toEqual(given[field]);
        }
        const deployment = (given['deployment'] ?? {}) as Json;
        for (const [field, kept] of Object.entries(result.spec.deployment)) {
          if (field !== 'health_check' && deployment[field] !== undefined) expect(kept).toEqual(deployment[field]);
        }
      }),
      { numRuns: 500 },
    );
  });
});
