/**
 * The JobSpec schema (contract §2, reference `types.JobSpec`) in zod: field
 * names, types, ranges, enums, defaults and the descriptions editors show.
 * It is the single source of the validator's per-field checks and of the
 * published JSON Schema. Rules between fields live in `rules.ts`.
 *
 * Every check carries its own message ("expected ..., found ...") because
 * these messages are what users read; zod's own wording never reaches them.
 */
import * as z from 'zod';
import { describeValue } from './describeValue.js';
import { DurationError, parseDuration } from './duration.js';
import { closestName } from './suggest.js';

export const JOB_TYPES = ['pipeline', 'query', 'update', 'config'] as const;
export const STRATEGIES = ['immediate', 'rolling', 'canary'] as const;
export const RESERVED_META_PREFIX = 'expanso.io/';

/** Defaults for missing fields (an explicit 0 is never replaced). */
export const DEFAULTS = {
  namespace: 'default',
  priority: 50,
  strategy: 'immediate',
  max_parallel: 1,
  canary_count: 0,
  canary_percent: 0,
  auto_promote: false,
  no_auto_rollback: false,
  max_failed_nodes: 10,
  max_failed_nodes_percent: 10,
  min_healthy_time: '30s',
  max_error_rate: 0.1,
  timeout_seconds: 0,
} as const;

interface IssueInput {
  input?: unknown;
}

/** The message for a value that is not what the field takes. */
export function expecting(expected: string): (issue: IssueInput) => string {
  return (issue) =>
    issue.input === undefined
      ? `required; expected ${expected}`
      : `expected ${expected}, found ${describeValue(issue.input)}`;
}

function integer(min: number, max?: number) {
  const error = expecting(max === undefined ? `an integer >= ${min}` : `an integer ${min}..${max}`);
  const atLeast = z.int({ error }).min(min, { error });
  return max === undefined ? atLeast : atLeast.max(max, { error });
}

function numberIn(min: number, max: number) {
  const error = expecting(`a number ${min}..${max}`);
  return z.number({ error }).min(min, { error }).max(max, { error });
}

const boolean = () => z.boolean({ error: expecting('true or false') });

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const expected = `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`;
  return z.enum(values, {
    error: (issue) => {
      const hint = typeof issue.input === 'string' ? closestName(issue.input, values) : undefined;
      return `${expecting(expected)(issue)}${hint === undefined ? '' : `; did you mean "${hint}"?`}`;
    },
  });
}

/** A name or namespace: non-empty, no whitespace or '/', at most 253 characters. */
function objectName(what: string) {
  return z
    .string({ error: expecting(`a ${what} string`) })
    .min(1, { error: `expected a non-empty ${what}, found ""` })
    .max(253, { error: (issue) => `expected at most 253 characters, found ${lengthOf(issue.input)}` })
    .regex(/^[^\s/]*$/, { error: expecting(`a ${what} without whitespace or "/"`) });
}

const lengthOf = (value: unknown): number => (typeof value === 'string' ? value.length : 0);

/** Go's duration syntax without a minus sign (both duration fields are >= 0), for editors. */
const GO_DURATION_PATTERN = '^\\+?(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$';

type DurationBound = 'positive' | 'non-negative';

/** What is wrong with `text` as a duration within `bound`: undefined when nothing, '' when only the bound. */
function durationFault(text: string, bound: DurationBound): string | undefined {
  let ns: bigint;
  try {
    ns = parseDuration(text);
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    return `: ${error.message}`;
  }
  const withinBound = bound === 'positive' ? ns > 0n : ns >= 0n;
  return withinBound ? undefined : '';
}

function goDuration(bound: DurationBound) {
  const expected = `a Go duration ${bound === 'positive' ? '> 0' : '>= 0'} such as "300ms", "1.5h" or "2h45m"`;
  return z
    .string({ error: expecting(expected) })
    .superRefine((text, context) => {
      const fault = durationFault(text, bound);
      if (fault !== undefined) {
        context.addIssue({ code: 'custom', input: text, message: `${expecting(expected)({ input: text })}${fault}` });
      }
    })
    .meta({ pattern: GO_DURATION_PATTERN });
}

function stringMap(what: string, key: z.ZodString = z.string()) {
  return z.record(key, z.string({ error: quoteHint }), { error: expecting(`a map of ${what}`) });
}

/** YAML reads `version: 1.2` as a number; say how to keep it a string. */
function quoteHint(issue: IssueInput): string {
  const scalar = typeof issue.input === 'number' || typeof issue.input === 'boolean';
  return `${expecting('a string')(issue)}${scalar ? ' (put it in quotes to keep it a string)' : ''}`;
}

const reservedMetaKey = z
  .string()
  .regex(new RegExp(`^(?!${RESERVED_META_PREFIX.replace('.', '\\.')})`), {
    error: (issue) => `keys starting "${RESERVED_META_PREFIX}" are reserved for the system, found ${describeValue(issue.input)}`,
  });

const timeoutSeconds = (what: string) =>
  integer(0).default(DEFAULTS.timeout_seconds).describe(`${what} in seconds. Zero means no timeout.`);

export const healthCheckSchema = z
  .strictObject(
    {
      deadline: goDuration('positive').describe(
        'Deadline is the maximum time to wait for an execution to become healthy (required). Example: "5m", "30s"',
      ),
      min_healthy_time: goDuration('non-negative')
        .default(DEFAULTS.min_healthy_time)
        .describe('MinHealthyTime is the minimum continuous healthy duration required, less than deadline (default "30s")'),
      max_error_rate: numberIn(0, 1)
        .default(DEFAULTS.max_error_rate)
        .describe('MaxErrorRate is the maximum error rate allowed during health checks (default 0.10 = 10%)'),
    },
    { error: expecting('a health_check object') },
  )
  .describe('HealthCheck defines health check configuration (required for rolling/canary, ignored for immediate)');

export const deploymentSchema = z
  .strictObject(
    {
      strategy: oneOf(STRATEGIES).default(DEFAULTS.strategy).describe('Strategy: immediate|rolling|canary'),
      max_parallel: integer(0)
        .default(DEFAULTS.max_parallel)
        .describe('MaxParallel is the maximum number of nodes to update in parallel (0 = all at once; default 1)'),
      canary_count: integer(0)
        .default(DEFAULTS.canary_count)
        .describe('Number of canary nodes; wins over canary_percent when both are set'),
      canary_percent: integer(0, 100).default(DEFAULTS.canary_percent).describe('Percentage of canary nodes'),
      auto_promote: boolean().default(DEFAULTS.auto_promote).describe('Auto-promote canary deployments'),
      no_auto_rollback: boolean()
        .default(DEFAULTS.no_auto_rollback)
        .describe('NoAutoRollback disables automatic rollback on deployment failure (default: false = auto-rollback enabled)'),
      max_failed_nodes: integer(0)
        .default(DEFAULTS.max_failed_nodes)
        .describe('MaxFailedNodes is the maximum number of failed nodes before stopping (default 10; 0 = zero tolerance)'),
      max_failed_nodes_percent: numberIn(0, 100)
        .default(DEFAULTS.max_failed_nodes_percent)
        .describe('MaxFailedNodesPercent is the maximum percentage of failed nodes before stopping (default 10.0)'),
      health_check: healthCheckSchema.optional(),
    },
    { error: expecting('a deployment object') },
  )
  .describe('Deployment defines how to deploy the job (absent: strategy immediate)');

export const selectorSchema = z
  .strictObject(
    {
      match_labels: stringMap('label names to values')
        .prefault({})
        .describe('MatchLabels selects nodes with labels that exactly match all specified key-value pairs (AND)'),
      match_expressions: z
        .array(z.string({ error: expecting('a selector expression string') }), {
          error: expecting('a list of selector expression strings'),
        })
        .prefault([])
        .describe(
          'MatchExpressions selects nodes using label selector expressions, all of which must match: ' +
            '"key=value", "key==value", "key!=value", "key in (v1,v2)", "key notin (v1,v2)", "key", "!key", ' +
            '"key>n", "key<n"; a value may be empty ("key="), a set too ("key in ()")',
        ),
      match_ids: z
        .array(z.string({ error: expecting('a node id string') }), { error: expecting('a list of node id strings') })
        .prefault([])
        .describe('MatchIDs selects specific nodes by their IDs'),
    },
    { error: expecting('a selector object') },
  )
  .describe('Selector defines which nodes to run the job on');

export const timeoutsSchema = z
  .strictObject(
    {
      execution_timeout: timeoutSeconds('ExecutionTimeout is the maximum time a task may run'),
      queue_timeout: timeoutSeconds('QueueTimeout is the maximum time a task may wait in the orchestrator queue'),
      total_timeout: timeoutSeconds('TotalTimeout is the maximum time a task may take, queueing and retries included'),
    },
    { error: expecting('a timeouts object') },
  )
  .describe('Timeouts defines timeout configurations for the job');

export const jobSpecSchema = z
  .strictObject(
    {
      name: objectName('name').describe(
        'Name is the logical name of the job; submitting a job with the same name updates it',
      ),
      namespace: objectName('namespace').default(DEFAULTS.namespace).describe('Namespace is the namespace this job is running in'),
      type: oneOf(JOB_TYPES).describe('Type specifies what kind of workload this job runs'),
      description: z
        .string({ error: expecting('a string') })
        .optional()
        .describe('Description is an optional human-readable description of the job'),
      priority: integer(0, 100)
        .default(DEFAULTS.priority)
        .describe('Priority defines the scheduling priority of this job; higher values indicate higher priority'),
      labels: stringMap('label names to values')
        .prefault({})
        .describe('Labels associate arbitrary labels with this job, for filtering and selection'),
      meta: stringMap('metadata keys to values', reservedMetaKey)
        .prefault({})
        .describe(`Meta associates arbitrary metadata with this job; keys starting "${RESERVED_META_PREFIX}" are reserved`),
      config: z
        .unknown()
        .optional()
        .describe('Config contains type-specific configuration for the workload, passed to the executor uninterpreted'),
      selector: selectorSchema.prefault({}),
      deployment: deploymentSchema.prefault({}),
      timeouts: timeoutsSchema.prefault({}),
    },
    { error: expecting('a JobSpec object (a mapping with at least "name" and "type")') },
  )
  .describe('A JobSpec: what to run, where, and how to roll it out');

export type JobSpecFields = z.output<typeof jobSpecSchema>;

/** The known field names of each object of the spec, by dotted path, for "did you mean" hints. */
export const KNOWN_FIELDS: ReadonlyMap<string, readonly string[]> = new Map([
  ['', Object.keys(jobSpecSchema.shape)],
  ['deployment', Object.keys(deploymentSchema.shape)],
  ['deployment.health_check', Object.keys(healthCheckSchema.shape)],
  ['selector', Object.keys(selectorSchema.shape)],
  ['timeouts', Object.keys(timeoutsSchema.shape)],
]);
