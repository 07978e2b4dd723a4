/**
 * Which keys and values a selector expression may name (contract §3, docs/selection.md).
 *
 * Kubernetes' rules without its length limits (fleet labels are not API objects,
 * and a 64-hex-digit digest is a reasonable label value):
 * - a name or value: letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit;
 * - a key: an optional prefix and `/`, then a name; the prefix is a DNS subdomain
 *   (dot-separated parts of lowercase letters, digits and `-`, each starting and ending
 *   with a letter or digit).
 * Node labels outside this set can still be matched exactly through `match_labels`.
 */

/** True for the characters an identifier token may hold: the name characters plus `/` (for key prefixes). */
export function isIdentifierChar(code: number): boolean {
  return isNameChar(code) || code === 0x2f; // '/'
}

/** Why `key` is not a valid key, or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash === -1) return nameProblem(key, 'a key');
  if (key.indexOf('/', slash + 1) !== -1) return 'a key may contain at most one "/"';
  const prefix = key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (prefix === '') return 'the prefix before "/" is empty';
  if (!isDnsSubdomain(prefix)) {
    return 'the prefix before "/" must be a DNS subdomain: lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit';
  }
  if (name === '') return 'the name after "/" is empty';
  return nameProblem(name, 'the name after "/"');
}

/** Why `value` is not a valid value, or undefined when it is. */
export function valueProblem(value: string): string | undefined {
  if (value.includes('/')) return 'a value may not contain "/"';
  return nameProblem(value, 'a value');
}

function nameProblem(name: string, what: string): string | undefined {
  for (let i = 0; i < name.length; i++) {
    if (!isNameChar(name.charCodeAt(i))) return `${what} may hold only letters, digits, "-", "_" and "."`;
  }
  if (!isAlphanumeric(name.charCodeAt(0)) || !isAlphanumeric(name.charCodeAt(name.length - 1))) {
    return `${what} must start and end with a letter or digit`;
  }
  return undefined;
}

function isDnsSubdomain(prefix: string): boolean {
  let partStart = 0;
  for (let i = 0; i <= prefix.length; i++) {
    const code = i < prefix.length ? prefix.charCodeAt(i) : 0x2e; // treat the end as a final '.'
    if (code === 0x2e) {
      if (i === partStart) return false; // empty part
      if (!isLowerAlphanumeric(prefix.charCodeAt(partStart)) || !isLowerAlphanumeric(prefix.charCodeAt(i - 1))) return false;
      partStart = i + 1;
    } else if (!isLowerAlphanumeric(code) && code !== 0x2d) {
      return false;
    }
  }
  return true;
}

function isNameChar(code: number): boolean {
  return isAlphanumeric(code) || code === 0x2d || code === 0x5f || code === 0x2e; // - _ .
}

function isAlphanumeric(code: number): boolean {
  return isLowerAlphanumeric(code) || (code >= 0x41 && code <= 0x5a);
}

function isLowerAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a);
}
