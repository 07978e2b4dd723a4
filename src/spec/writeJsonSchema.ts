/**
 * Build step: writes dist/jobspec.schema.json (exported by the package as
 * `fleet-rollout/jobspec.schema.json`). Run as `node dist/src/spec/writeJsonSchema.js`;
 * this compiled file sits in dist/src/spec/, two levels below dist/.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { jobSpecJsonSchema } from './jsonSchema.js';

const target = fileURLToPath(new URL('../../jobspec.schema.json', import.meta.url));
writeFileSync(target, `${JSON.stringify(jobSpecJsonSchema(), null, 2)}\n`);
