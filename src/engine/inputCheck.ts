/**
 * §7a: every input is checked at the boundary, before it is journaled, so a
 * malformed one leaves no trace in the store. Each check returns a fresh
 * copy holding only the known fields (what is journaled is what was checked;
 * the caller may reuse its object) or throws an `InputError` naming the
 * input and the field.
 */
import { z } from 'zod';
import { validateJobSpec } from '../spec/validate.js';
import type { FleetNode } from '../selector/types.js';
import type { JobSpec } from '../spec/types.js';
import { InputError } from './errors.js';
import type { ExecutionReport, ExecutionStatus, HealthReport, OperatorCommand } from './types.js';

const EXECUTION_STATUSES = ['started', 'succeeded', 'failed'] as const satisfies readonly ExecutionStatus[];

const name = z.string().min(1, 'must be a non-empty string');
// Any integer: a report for a version not being rolled out is counted as ignored (§4), a rollback to one that does not exist is refused by the command.
const version = z.int();

export const healthReport = z.object({
  node: name,
  job: name,
  version,
  healthy: z.boolean(),
  error_rate: z.number().min(0).optional(),
});

export const executionReport = z.object({ node: name, job: name, version, status: z.enum(EXECUTION_STATUSES) });

export const fleetNode = z.object({ id: name, labels: z.record(z.string(), z.string()), connected: z.boolean() });

const jobCommand = z.object({ job: name });
const rollbackCommand = z.object({ job: name, version: version.optional() });

function check<T extends z.ZodType>(schema: T, value: unknown, input: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const reason = issue.code === 'invalid_type' && issue.path.length > 0 && issue.input === undefined ? 'is required' : issue.message;
  throw new InputError(input, issue.path.join('.'), reason.replace(/^Invalid input: /, 'must be: '));
}

// The hot path: a well-formed report (every field of the schema above, the right types) is copied
// without zod, which costs a third of the engine's throughput per report; anything else goes through
// zod, so its messages stay the one source of errors. test/engine-input-check.test.ts holds the pair equal.
const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/**
 * Is this report well formed as it stands (the fast path's conditions)? An
 * engine that keeps nothing of a report once handled (no journal) reads
 * such a report in place, without the copy.
 */
export function isWellFormedHealth(r: unknown): r is HealthReport {
  if (typeof r !== 'object' || r === null) return false;
  const { node, job, version, healthy, error_rate } = r as Record<string, unknown>;
  if (!isName(node) || !isName(job) || !Number.isSafeInteger(version) || typeof healthy !== 'boolean') return false;
  return error_rate === undefined || (typeof error_rate === 'number' && error_rate >= 0 && error_rate !== Infinity);
}

export function isWellFormedExecution(r: unknown): r is ExecutionReport {
  if (typeof r !== 'object' || r === null) return false;
  const { node, job, version, status } = r as Record<string, unknown>;
  return isName(node) && isName(job) && Number.isSafeInteger(version) && (status === 'started' || status === 'succeeded' || status === 'failed');
}

function wellFormedHealth(r: unknown): HealthReport | null {
  if (!isWellFormedHealth(r)) return null;
  const { node, job, version, healthy, error_rate } = r;
  return error_rate === undefined ? { node, job, version, healthy } : { node, job, version, healthy, error_rate };
}

function wellFormedExecution(r: unknown): ExecutionReport | null {
  if (!isWellFormedExecution(r)) return null;
  const { node, job, version, status } = r;
  return { node, job, version, status };
}

export function checkHealthReport(report: unknown): HealthReport {
  const fast = wellFormedHealth(report);
  if (fast !== null) return fast;
  const checked = check(healthReport, report, 'reportHealth');
  if (checked.error_rate === undefined) delete checked.error_rate;
  return checked as HealthReport;
}

export function checkExecutionReport(report: unknown): ExecutionReport {
  return wellFormedExecution(report) ?? check(executionReport, report, 'reportExecution');
}

/**
 * A well-formed node whose labels object is frozen (a plain or null-prototype object of strings)
 * keeps that object: it cannot change under the engine, and a generated fleet
 * shares a few among a million nodes (zod would copy each: ~100 B and ~1 µs a
 * node). Any other node goes through zod, which copies its labels.
 */
function wellFormedNode(n: unknown): FleetNode | null {
  if (!isWellFormedNode(n)) return null;
  const { id, labels, connected } = n;
  return { id, labels, connected };
}

export function isWellFormedNode(n: unknown): n is FleetNode {
  if (typeof n !== 'object' || n === null) return false;
  const { id, labels, connected } = n as Record<string, unknown>;
  return isName(id) && typeof connected === 'boolean' && isFrozenLabels(labels);
}

/** Frozen labels objects found well formed: frozen, nothing about them can change, so the answer holds (a fleet shares a few). */
const wellFormedFrozenLabels = new WeakSet<object>();

function isFrozenLabels(labels: unknown): labels is Record<string, string> {
  if (typeof labels !== 'object' || labels === null) return false;
  if (wellFormedFrozenLabels.has(labels)) return true;
  if (!Object.isFrozen(labels)) return false;
  const proto = Object.getPrototypeOf(labels);
  if (proto !== Object.prototype && proto !== null) return false;
  if (Object.getOwnPropertySymbols(labels).length > 0 || Object.hasOwn(labels, '__proto__')) return false;
  // Data properties only: a getter could answer differently later.
  for (const key of Object.getOwnPropertyNames(labels)) {
    const property = Object.getOwnPropertyDescriptor(labels, key)!;
    if (!property.enumerable || typeof property.value !== 'string') return false;
  }
  wellFormedFrozenLabels.add(labels);
  return true;
}

export function checkNode(node: unknown, input = 'upsertNode'): FleetNode {
  return wellFormedNode(node) ?? check(fleetNode, node, input);
}

export function checkNodeId(id: unknown, input: string): string {
  return check(z.object({ node: name }), { node: id }, input).node;
}

export function checkConnected(id: unknown, connected: unknown): { node: string; connected: boolean } {
  return check(z.object({ node: name, connected: z.boolean() }), { node: id, connected }, 'setConnected');
}

export function checkCommandInput(command: OperatorCommand['type'], job: unknown, rollbackVersion?: unknown): OperatorCommand {
  if (command === 'rollback') {
    const checked = check(rollbackCommand, { job, version: rollbackVersion }, 'rollback');
    return checked.version === undefined ? { type: 'rollback', job: checked.job } : { type: 'rollback', job: checked.job, version: checked.version };
  }
  return { type: command, job: check(jobCommand, { job }, command).job };
}

/** A JobSpec must pass contract §2's validator; the engine keeps its normalized form. */
export function checkSpec(spec: unknown): JobSpec {
  const result = validateJobSpec(spec);
  if (result.valid) return result.spec;
  const problem = result.errors[0]!;
  throw new InputError('submit', problem.path, problem.message);
}
