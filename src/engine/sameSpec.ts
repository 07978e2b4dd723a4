/**
 * §1: a submission equal to the current version is `unchanged`. Two normalized
 * specs are equal when their JSON is, whatever the order of object keys.
 */
import type { JobSpec } from '../spec/types.js';

export function sameSpec(a: JobSpec, b: JobSpec): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    // A null prototype keeps a `__proto__` label an ordinary key.
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}
