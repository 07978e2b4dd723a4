/**
 * The JSON Schema of a JobSpec, generated from the zod schema the validator
 * uses, for editor completion and hover help. It describes the input a user
 * writes: fields with defaults are optional and show their default.
 */
import * as z from 'zod';
import { jobSpecSchema } from './schema.js';

export const JOBSPEC_SCHEMA_ID = 'https://github.com/fleet-rollout/fleet-rollout/jobspec.schema.json';

export function jobSpecJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(jobSpecSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: JOBSPEC_SCHEMA_ID,
    title: 'fleet-rollout JobSpec',
  };
}
