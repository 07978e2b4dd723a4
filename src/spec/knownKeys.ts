/**
 * Unknown fields are errors with a "did you mean" hint, worded the same way
 * for JobSpecs, fleets and scenarios.
 */
import { joinPath } from './path.js';
import { closestName } from './suggest.js';
import type { Problem } from './types.js';

/** `unknown field `x`; did you mean `y`?`, or the list of known fields when nothing is close. */
export function unknownFieldMessage(key: string, known: readonly string[], hint = closestName(key, known)): string {
  const field = `unknown field \`${key}\``;
  if (hint !== undefined) return `${field}; did you mean \`${hint}\`?`;
  return `${field}; expected one of ${known.map((name) => `\`${name}\``).join(', ')}`;
}

/** Pushes a problem for every own key of `object` that is not in `known`. */
export function checkKnownKeys(object: object, known: readonly string[], path: string, problems: Problem[]): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) problems.push({ path: joinPath(path, key), message: unknownFieldMessage(key, known) });
  }
}
