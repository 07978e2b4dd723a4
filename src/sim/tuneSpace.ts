/**
 * The policy space `tune` searches: values per `deployment` field, from
 * `--vary FIELD=VALUES` or, with no --vary, the defaults below; every
 * combination merged onto the scenario's job (policy.ts), validated, and
 * deduplicated by the deployment block it pastes as (a rolling policy has
 * no canary fields, so it counts once).
 *
 * VALUES: a list `10,20,50`; an integer range `1..20` (every integer); a
 * stepped range `30s..2m/30s`, `0.01..0.1/0.01`, `1..20/5`.
 */
import { selectTargets } from '../selector/index.js';
import type { FleetNode } from '../selector/types.js';
import { formatDuration, parseDurationMs } from '../spec/duration.js';
import { closestName } from '../spec/suggest.js';
import type { JobSpec } from '../spec/types.js';
import { deploymentPolicy, pasteableDeployment } from './policy.js';

type Kind = 'integer' | 'number' | 'duration' | 'boolean' | 'strategy';

interface Field {
  /** Under `deployment`: `max_parallel`, `health_check.deadline`. */
  path: string;
  kind: Kind;
}

export const TUNABLE_FIELDS: readonly Field[] = [
  { path: 'strategy', kind: 'strategy' },
  { path: 'max_parallel', kind: 'integer' },
  { path: 'canary_count', kind: 'integer' },
  { path: 'canary_percent', kind: 'integer' },
  { path: 'auto_promote', kind: 'boolean' },
  { path: 'no_auto_rollback', kind: 'boolean' },
  { path: 'max_failed_nodes', kind: 'integer' },
  { path: 'max_failed_nodes_percent', kind: 'number' },
  { path: 'health_check.deadline', kind: 'duration' },
  { path: 'health_check.min_healthy_time', kind: 'duration' },
  { path: 'health_check.max_error_rate', kind: 'number' },
];

/** The search space holds at most this many combinations (each is simulated many times). */
export const MAX_COMBINATIONS = 20_000;
/** An integer range without a step lists every integer: at most this many. */
const MAX_RANGE_VALUES = 1_000;

export interface Vary {
  field: string;
  values: Array<string | number | boolean>;
}

export type VaryParse = { ok: true; vary: Vary } | { ok: false; message: string };

/** `FIELD=VALUES`; the field may be written without `health_check.` (`min_healthy_time=30s,1m`). */
export function parseVary(text: string): VaryParse {
  const equals = text.indexOf('=');
  if (equals <= 0) return { ok: false, message: 'expected FIELD=VALUES, e.g. canary_percent=1..20 or max_parallel=10,20,50' };
  const name = text.slice(0, equals).trim();
  const spec = text.slice(equals + 1).trim();
  const field = fieldNamed(name);
  if (field === undefined) {
    const names = TUNABLE_FIELDS.map((f) => f.path);
    const short = names.map((path) => path.replace('health_check.', ''));
    const hint = closestName(name, [...names, ...short]);
    return { ok: false, message: `unknown deployment field "${name}"${hint === undefined ? '' : `; did you mean "${hint}"?`} (fields: ${names.join(', ')})` };
  }
  if (spec === '') return { ok: false, message: `no values for ${field.path}` };
  const values = parseValues(field, spec);
  if (typeof values === 'string') return { ok: false, message: values };
  return { ok: true, vary: { field: field.path, values } };
}

function fieldNamed(name: string): Field | undefined {
  const path = name.startsWith('deployment.') ? name.slice('deployment.'.length) : name;
  return TUNABLE_FIELDS.find((field) => field.path === path || field.path === `health_check.${path}`);
}

function parseValues(field: Field, spec: string): Array<string | number | boolean> | string {
  const range = /^(.+?)\.\.(.+?)(?:\/(.+))?$/.exec(spec);
  if (range !== null && field.kind !== 'strategy' && field.kind !== 'boolean') return parseRange(field, range[1]!.trim(), range[2]!.trim(), range[3]?.trim());
  const values: Array<string | number | boolean> = [];
  for (const item of spec.split(',').map((part) => part.trim())) {
    const value = parseScalar(field, item);
    if (typeof value === 'object') return value.error;
    if (!values.includes(value)) values.push(value);
  }
  return values;
}

function parseScalar(field: Field, text: string): string | number | boolean | { error: string } {
  const bad = (expected: string): { error: string } => ({ error: `${field.path}: expected ${expected}, found "${text}"` });
  switch (field.kind) {
    case 'strategy':
      return ['immediate', 'rolling', 'canary'].includes(text) ? text : bad('immediate, rolling or canary');
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : bad('true or false');
    case 'integer':
      return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : bad('an integer >= 0');
    case 'number':
      return /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : bad('a number >= 0');
    case 'duration':
      try {
        parseDurationMs(text);
        return text;
      } catch (error) {
        return bad(`a Go duration such as 30s or 2m (${(error as Error).message})`);
      }
  }
}

function parseRange(field: Field, fromText: string, toText: string, stepText: string | undefined): Array<string | number> | string {
  const shown = `${field.path}=${fromText}..${toText}${stepText === undefined ? '' : `/${stepText}`}`;
  if (field.kind === 'duration') {
    if (stepText === undefined) return `${shown}: a range of durations needs a step, e.g. 30s..2m/30s`;
    const bounds = [fromText, toText, stepText].map((text) => parseScalar(field, text));
    const error = bounds.find((bound): bound is { error: string } => typeof bound === 'object');
    if (error !== undefined) return error.error;
    const [from, to, step] = (bounds as string[]).map((text) => parseDurationMs(text));
    const values = steps(from!, to!, step!, shown);
    return typeof values === 'string' ? values : values.map((ms) => formatDuration(BigInt(Math.round(ms)) * 1_000_000n));
  }
  if (field.kind === 'number' && stepText === undefined) return `${shown}: a range of numbers needs a step, e.g. 0.01..0.1/0.01`;
  const parts = [fromText, toText, stepText ?? '1'].map((text) => parseScalar(field, text));
  const error = parts.find((part): part is { error: string } => typeof part === 'object');
  if (error !== undefined) return error.error;
  const [from, to, step] = parts as number[];
  return steps(from!, to!, step!, shown);
}

function steps(from: number, to: number, step: number, shown: string): number[] | string {
  if (!(step > 0)) return `${shown}: the step must be > 0`;
  if (from > to) return `${shown}: the range goes down (${from} > ${to})`;
  const count = Math.floor((to - from) / step + 1e-9) + 1;
  if (count > MAX_RANGE_VALUES) return `${shown}: ${count} values; at most ${MAX_RANGE_VALUES} (add a larger /step)`;
  // Counted from `from` (not summed) so 0.1 steps do not drift; rounded to what the user could have typed.
  return Array.from({ length: count }, (_, i) => Math.round((from + i * step) * 1e9) / 1e9);
}

/** With no --vary: canary and rolling, canary sizes, windows as shares of the targeted nodes, failure thresholds, healthy times. */
export function defaultVaries(job: JobSpec, targeted: number): Vary[] {
  const share = (percent: number): number => Math.max(1, Math.ceil((targeted * percent) / 100));
  const windows = [...new Set([1, 2.5, 5, 10].map(share))];
  return [
    { field: 'strategy', values: ['canary', 'rolling'] },
    { field: 'canary_percent', values: [1, 2, 5, 10, 20] },
    { field: 'auto_promote', values: [true] },
    { field: 'max_parallel', values: windows },
    { field: 'max_failed_nodes', values: [...new Set([2, job.deployment.max_failed_nodes])] },
    { field: 'max_failed_nodes_percent', values: [1, 5, 10] },
    { field: 'health_check.min_healthy_time', values: ['30s', '1m', '2m'] },
  ];
}

/** Nodes of the fleet the job targets at time 0 (connected, matching its selector). */
export function targetedCount(job: JobSpec, fleet: readonly FleetNode[]): number {
  return selectTargets(job.selector, fleet).length;
}

export interface Candidate {
  job: JobSpec;
  /** The block to paste (policy.ts). */
  deployment: Record<string, unknown>;
  /** The values this candidate took, by field. */
  values: Record<string, string | number | boolean>;
}

export type SpaceBuild =
  | { ok: true; candidates: Candidate[]; combinations: number; invalid: number; duplicates: number; firstInvalid: string | null }
  | { ok: false; message: string };

export function buildSpace(job: JobSpec, varies: readonly Vary[]): SpaceBuild {
  const seen = new Set<string>();
  for (const vary of varies) {
    if (seen.has(vary.field)) return { ok: false, message: `--vary ${vary.field} is given twice: list every value in one --vary` };
    seen.add(vary.field);
  }
  const combinations = varies.reduce((product, vary) => product * vary.values.length, 1);
  if (combinations > MAX_COMBINATIONS) {
    return { ok: false, message: `the --vary values make ${combinations} policies; at most ${MAX_COMBINATIONS} (each is simulated many times): use fewer values` };
  }
  const candidates: Candidate[] = [];
  const keys = new Set<string>();
  let invalid = 0;
  let duplicates = 0;
  let firstInvalid: string | null = null;
  const values: Record<string, string | number | boolean> = {};
  const visit = (depth: number): void => {
    if (depth === varies.length) {
      const block = blockOf(values);
      const load = deploymentPolicy(block, job);
      if (!load.ok) {
        invalid += 1;
        firstInvalid ??= `${describeValues(values)}: ${load.errors[0]!.path}: ${load.errors[0]!.message}`;
        return;
      }
      const deployment = pasteableDeployment(load.job);
      const key = JSON.stringify(deployment);
      if (keys.has(key)) {
        duplicates += 1;
        return;
      }
      keys.add(key);
      candidates.push({ job: load.job, deployment, values: { ...values } });
      return;
    }
    const vary = varies[depth]!;
    for (const value of vary.values) {
      values[vary.field] = value;
      visit(depth + 1);
    }
  };
  visit(0);
  return { ok: true, candidates, combinations, invalid, duplicates, firstInvalid };
}

function blockOf(values: Record<string, string | number | boolean>): Record<string, unknown> {
  const block: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(values)) {
    if (path.startsWith('health_check.')) {
      const healthCheck = (block.health_check ??= {}) as Record<string, unknown>;
      healthCheck[path.slice('health_check.'.length)] = value;
    } else block[path] = value;
  }
  return block;
}

export function describeValues(values: Record<string, string | number | boolean>): string {
  return Object.entries(values)
    .map(([field, value]) => `${field}=${value}`)
    .join(' ');
}
