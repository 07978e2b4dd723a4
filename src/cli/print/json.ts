import { safeJson } from './safeText.js';

/** Version of the CLI's JSON output (contract §8: fields are added, never renamed or removed). */
export const JSON_FORMAT = 1;

/** Pretty JSON with the format version first, and a final newline; control and bidi characters as JSON escapes. */
export function jsonOutput(fields: Record<string, unknown>): string {
  return `${safeJson(JSON.stringify({ format: JSON_FORMAT, ...fields }, null, 2))}\n`;
}
