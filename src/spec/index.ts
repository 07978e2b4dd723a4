/** The JobSpec: reading, validating and normalizing it (contract §2), and Go durations. */
import { parseDocument } from './document.js';
import type { ValidationResult } from './types.js';
import { validateJobSpec } from './validate.js';

export type { DeploymentPolicy, HealthCheck, JobSpec, JobType, Problem, Selector, Strategy, Timeouts, ValidationResult } from './types.js';
export { DurationError, formatDuration, parseDuration, parseDurationMs } from './duration.js';
export { MAX_BYTES, MAX_DEPTH, MAX_YAML_BYTES, parseDocument, type DocumentParseResult } from './document.js';
export { validateJobSpec } from './validate.js';
export {
  canaryGroupSize,
  explainPolicy,
  toleratedFailures,
  tripsFailureRule,
  type BindingLimit,
  type JudgedBy,
  type PhaseTolerance,
  type PolicyExplanation,
} from './policy.js';
export { jobSpecJsonSchema } from './jsonSchema.js';
export { DEFAULTS, JOB_TYPES, STRATEGIES } from './schema.js';

/** Parses a JSON or YAML JobSpec and validates it; a document that cannot be read is the single error. */
export function loadJobSpec(input: string | Uint8Array, source: string): ValidationResult {
  const document = parseDocument(input, source);
  if (!document.ok) return { valid: false, errors: [document.problem], warnings: [] };
  return validateJobSpec(document.value);
}
