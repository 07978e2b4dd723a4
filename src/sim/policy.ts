/**
 * A rollout policy for `compare` and `tune`: a whole JobSpec, or only its
 * `deployment` block merged onto the scenario's job. The merge is field by
 * field (`health_check` too); a block that sets `canary_count` or
 * `canary_percent` replaces both of the job's (count wins when both are set,
 * so a percent alone must not lose to the job's count). The result is
 * validated as a JobSpec: the policy is what the engine would be given.
 */
import { validateJobSpec, type JobSpec, type Problem } from '../spec/index.js';
import { isRecord } from './scenarioFields.js';

export type PolicyLoad = { ok: true; job: JobSpec; warnings: Problem[] } | { ok: false; errors: Problem[]; warnings: Problem[] };

/** Keys that only a JobSpec has at its top: their presence means the document is a whole JobSpec. */
const JOBSPEC_ONLY_KEYS = ['name', 'type', 'deployment', 'selector', 'config'];

export function isWholeJobSpec(document: Record<string, unknown>): boolean {
  return JOBSPEC_ONLY_KEYS.some((key) => document[key] !== undefined);
}

/**
 * The job a policy document means, for the scenario's `job`. A whole JobSpec
 * must roll out the same job (namespace and name); a deployment block's
 * problems carry paths relative to the block (`health_check.deadline`).
 */
export function policyJob(document: unknown, job: JobSpec): PolicyLoad {
  if (!isRecord(document)) {
    return { ok: false, errors: [{ path: '', message: 'expected a JobSpec or a deployment block (strategy, max_parallel, canary_percent ...)' }], warnings: [] };
  }
  if (isWholeJobSpec(document)) {
    const result = validateJobSpec(document);
    if (!result.valid) return { ok: false, errors: result.errors, warnings: result.warnings };
    const identity = (spec: JobSpec): string => `${spec.namespace}/${spec.name}`;
    if (identity(result.spec) !== identity(job)) {
      const message = `names the job ${JSON.stringify(identity(result.spec))}, but the scenario rolls out ${JSON.stringify(identity(job))}`;
      return { ok: false, errors: [{ path: 'name', message }], warnings: result.warnings };
    }
    return { ok: true, job: result.spec, warnings: result.warnings };
  }
  return deploymentPolicy(document, job);
}

/** `block` merged onto the job's deployment, validated; paths are relative to the block. */
export function deploymentPolicy(block: Record<string, unknown>, job: JobSpec): PolicyLoad {
  const result = validateJobSpec({ ...job, deployment: mergeDeployment(job.deployment as unknown as Record<string, unknown>, block) });
  const relative = (problem: Problem): Problem => ({ path: problem.path.replace(/^deployment\.?/, ''), message: problem.message });
  const warnings = result.warnings.map(relative);
  if (!result.valid) return { ok: false, errors: result.errors.map(relative), warnings };
  return { ok: true, job: result.spec, warnings };
}

export function mergeDeployment(base: Record<string, unknown>, block: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  // The job's deployment is normalized (a rolling job carries canary_count: 0): the fields the merged strategy
  // ignores are kept only when the block sets them, so only the user's own words can warn.
  const strategy = typeof block.strategy === 'string' ? block.strategy : base.strategy;
  for (const key of IGNORED_BY[strategy as string] ?? []) delete merged[key];
  if (block.canary_count !== undefined || block.canary_percent !== undefined) {
    delete merged.canary_count;
    delete merged.canary_percent;
  }
  for (const [key, value] of Object.entries(block)) {
    merged[key] = key === 'health_check' && isRecord(value) && isRecord(base.health_check) ? { ...base.health_check, ...value } : value;
  }
  return merged;
}

const CANARY_ONLY = ['canary_count', 'canary_percent', 'auto_promote'];
const IGNORED_BY: Record<string, readonly string[]> = { rolling: CANARY_ONLY, immediate: [...CANARY_ONLY, 'max_parallel', 'health_check'] };

/**
 * The deployment block a user would paste: the fields that shape the rollout
 * under its strategy (a rolling policy shows no canary fields).
 */
export function pasteableDeployment(job: JobSpec): Record<string, unknown> {
  const d = job.deployment;
  const block: Record<string, unknown> = { strategy: d.strategy };
  if (d.strategy === 'canary') {
    if (d.canary_count > 0) block.canary_count = d.canary_count;
    else block.canary_percent = d.canary_percent;
    block.auto_promote = d.auto_promote;
  }
  if (d.strategy !== 'immediate') block.max_parallel = d.max_parallel;
  block.max_failed_nodes = d.max_failed_nodes;
  block.max_failed_nodes_percent = d.max_failed_nodes_percent;
  if (d.no_auto_rollback) block.no_auto_rollback = true;
  if (d.health_check !== undefined && d.strategy !== 'immediate') block.health_check = { ...d.health_check };
  return block;
}
