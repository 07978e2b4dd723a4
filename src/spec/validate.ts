/**
 * Validates a parsed document as a JobSpec (contract §2) and normalizes it.
 * Every problem is reported at once; the validator never throws, whatever
 * the value, and reads only own properties.
 */
import type * as z from 'zod';
import { formatPath } from './path.js';
import { isRawObject, own, type RawObject } from './raw.js';
import { checkRules } from './rules.js';
import { jobSpecSchema, KNOWN_FIELDS, type JobSpecFields } from './schema.js';
import { unknownFieldMessage } from './knownKeys.js';
import { closestName } from './suggest.js';
import type { JobSpec, Problem, ValidationResult } from './types.js';

export function validateJobSpec(value: unknown): ValidationResult {
  const parsed = jobSpecSchema.safeParse(value);
  const errors = parsed.success ? [] : parsed.error.issues.flatMap(problemsOf);
  const rules = checkRules(value);
  errors.push(...rules.errors);
  if (!parsed.success || errors.length > 0) {
    return { valid: false, errors: withoutDuplicates(errors), warnings: rules.warnings };
  }
  // parsed.success implies an object at the top.
  return { valid: true, spec: normalize(parsed.data, value as RawObject), warnings: rules.warnings };
}

function problemsOf(issue: z.core.$ZodIssue): Problem[] {
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: unknownField(key, path) }));
  }
  if (issue.code === 'invalid_key') {
    // A map key that breaks the key rule: the key schema's own message says why.
    return [{ path, message: issue.issues[0]?.message ?? issue.message }];
  }
  return [{ path, message: issue.message }];
}

function unknownField(key: string, objectPath: string): string {
  const known = KNOWN_FIELDS.get(objectPath) ?? [];
  // A field written at the wrong level (`strategy` at the top) is a common slip.
  const elsewhere = [...KNOWN_FIELDS].find(([path, names]) => path !== objectPath && names.includes(key))?.[0];
  const hint = closestName(key, known) ?? (elsewhere === undefined ? undefined : elsewhere ? `${elsewhere}.${key}` : key);
  return unknownFieldMessage(key, known, hint);
}

/** zod can raise two issues with one message for one value (e.g. 1e20 is past both the safe-integer and the field bound). */
function withoutDuplicates(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((problem) => {
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The normalized JobSpec, fields in the order of `JobSpec`. Scalars come from
 * zod's output (defaults filled for missing fields only); string maps are
 * copied from the document into null-prototype objects, because zod drops a
 * `__proto__` key and a plain object would look keys up its prototype.
 */
function normalize(fields: JobSpecFields, raw: RawObject): JobSpec {
  const { deployment, timeouts, selector } = fields;
  const healthCheck = deployment.health_check;
  const config = own(raw, 'config');
  return {
    name: fields.name,
    namespace: fields.namespace,
    type: fields.type,
    ...(fields.description === undefined ? {} : { description: fields.description }),
    priority: fields.priority,
    labels: stringMap(own(raw, 'labels')),
    meta: stringMap(own(raw, 'meta')),
    ...(config === undefined ? {} : { config }),
    selector: {
      match_labels: stringMap(own(own(raw, 'selector'), 'match_labels')),
      match_expressions: selector.match_expressions,
      match_ids: selector.match_ids,
    },
    deployment: {
      strategy: deployment.strategy,
      max_parallel: deployment.max_parallel,
      canary_count: deployment.canary_count,
      canary_percent: deployment.canary_percent,
      auto_promote: deployment.auto_promote,
      no_auto_rollback: deployment.no_auto_rollback,
      max_failed_nodes: deployment.max_failed_nodes,
      max_failed_nodes_percent: deployment.max_failed_nodes_percent,
      ...(healthCheck === undefined
        ? {}
        : {
            health_check: {
              deadline: healthCheck.deadline,
              min_healthy_time: healthCheck.min_healthy_time,
              max_error_rate: healthCheck.max_error_rate,
            },
          }),
    },
    timeouts: {
      execution_timeout: timeouts.execution_timeout,
      queue_timeout: timeouts.queue_timeout,
      total_timeout: timeouts.total_timeout,
    },
  };
}

/** A validated string map (or a missing one) as a null-prototype copy. */
function stringMap(value: unknown): Record<string, string> {
  const copy: Record<string, string> = Object.create(null);
  if (!isRawObject(value)) return copy;
  for (const key of Object.keys(value)) copy[key] = value[key] as string;
  return copy;
}
