/**
 * The reference pages say what the code does: every JobSpec field of contract
 * §2 is in docs/jobspec-reference.md with the default the validator fills,
 * and every scenario key of §9 is in docs/scenarios.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_ACTIONS } from '../src/sim/scenarioEvents.js';
import { SCENARIO_KEYS } from '../src/sim/scenario.js';
import { BEHAVIOR_FIELDS } from '../src/sim/scenarioBehavior.js';
import { validateJobSpec } from '../src/spec/index.js';
import { KNOWN_FIELDS } from '../src/spec/schema.js';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** `field -> default cell` of every table row that starts with a backticked name. */
function tableRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (name !== undefined && cells.length >= 5) rows.set(name, cells[3] ?? '');
  }
  return rows;
}

/** The documented name of a schema field: `name`, `deployment.strategy`, `health_check.deadline`. */
function documentedName(objectPath: string, field: string): string {
  if (objectPath === '') return field;
  return `${objectPath === 'deployment.health_check' ? 'health_check' : objectPath}.${field}`;
}

describe('§2 docs/jobspec-reference.md lists every field with the default the validator fills', () => {
  // The field tables come before the judging and warnings tables.
  const rows = tableRows(read('docs/jobspec-reference.md').split('## How each job type is judged')[0]!);
  const minimal = validateJobSpec({ name: 'a', type: 'query' });
  const withHealth = validateJobSpec({ name: 'a', type: 'query', deployment: { strategy: 'rolling', health_check: { deadline: '5m' } } });
  if (!minimal.valid || !withHealth.valid) throw new Error('the sample specs must be valid');

  const fields = [...KNOWN_FIELDS].flatMap(([objectPath, names]) => names.map((name) => ({ objectPath, name })));

  it.each(fields.map(({ objectPath, name }) => [documentedName(objectPath, name), objectPath, name]))('§2 %s', (documented, objectPath, name) => {
    const cell = rows.get(documented);
    expect(cell, `no row for ${documented}`).toBeDefined();
    const literal = /^`([^`]*)`/.exec(cell!)?.[1];
    if (literal === undefined) return; // "required", "none": nothing filled in
    const spec = objectPath === 'deployment.health_check' ? withHealth.spec : minimal.spec;
    const object = objectPath.split('.').filter(Boolean).reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], spec);
    const filled = (object as Record<string, unknown>)[name];
    if (typeof filled === 'object' && filled !== null && !Array.isArray(filled) && Object.keys(filled).length > 0) return; // a block
    expect(JSON.stringify(filled)).toBe(typeof filled === 'string' ? JSON.stringify(literal) : literal);
  });

  it('§2 the page has a row for nothing the schema lacks', () => {
    const known = new Set(fields.map(({ objectPath, name }) => documentedName(objectPath, name)));
    expect([...rows.keys()].filter((name) => !known.has(name))).toEqual([]);
  });
});

describe('§9 docs/scenarios.md documents every scenario key', () => {
  const page = read('docs/scenarios.md');
  it.each([...SCENARIO_KEYS])('§9 %s', (key) => {
    expect(page).toContain(`| \`${key}\` |`);
  });
  it.each([...BEHAVIOR_FIELDS, 'overrides'])('§9 behavior.%s', (field) => {
    expect(page).toContain(`| \`behavior.${field}\` |`);
  });
  it.each([...EVENT_ACTIONS])('§9 events: %s', (action) => {
    expect(page).toMatch(new RegExp(`^\\| [^\\n]*\`${action}\``, 'm'));
  });
});
