import { describe, expect, it } from 'vitest';
import { DEFAULTS, jobSpecJsonSchema } from '../src/spec/index.js';

type Schema = {
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: unknown;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  propertyNames?: { pattern?: string };
  pattern?: string;
};

const schema = jobSpecJsonSchema() as Schema & { $id: string; title: string };
const at = (...path: string[]): Schema =>
  path.reduce<Schema>((node, key) => {
    const next = node.properties?.[key];
    if (next === undefined) throw new Error(`no property ${path.join('.')}`);
    return next;
  }, schema);

describe('§2 the published JSON Schema (from the validator\'s zod schema)', () => {
  it('§2 name and type are the required fields; unknown fields are not allowed', () => {
    expect(schema.required).toEqual(['name', 'type']);
    expect(schema.additionalProperties).toBe(false);
    expect(at('deployment').additionalProperties).toBe(false);
    expect(at('deployment', 'health_check').required).toEqual(['deadline']);
  });

  it('§2 every field has a description for editor completion', () => {
    const missing: string[] = [];
    const visit = (node: Schema, path: string) => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        if (!child.description) missing.push(`${path}${key}`);
        visit(child, `${path}${key}.`);
      }
    };
    visit(schema, '');
    expect(missing).toEqual([]);
  });

  it('§2 defaults are shown for missing fields', () => {
    expect(at('priority').default).toBe(DEFAULTS.priority);
    expect(at('namespace').default).toBe('default');
    expect(at('deployment', 'strategy').default).toBe('immediate');
    expect(at('deployment', 'max_failed_nodes').default).toBe(10);
    expect(at('deployment', 'health_check', 'min_healthy_time').default).toBe('30s');
  });

  it('§2 enums, reserved meta keys and Go durations are described', () => {
    expect(at('type').enum).toEqual(['pipeline', 'query', 'update', 'config']);
    const reserved = new RegExp(at('meta').propertyNames?.pattern ?? '');
    expect(reserved.test('expanso.io/owner')).toBe(false);
    expect(reserved.test('team')).toBe(true);
    const duration = new RegExp(at('deployment', 'health_check', 'deadline').pattern ?? '');
    expect(['300ms', '1.5h', '2h45m', '.5s', '0'].every((text) => duration.test(text))).toBe(true);
    expect(['5', '1d', '.', '5 m', '-5s'].some((text) => duration.test(text))).toBe(false);
  });

  it('§2 the schema is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
    expect(schema.$id).toMatch(/jobspec\.schema\.json$/);
  });
});
