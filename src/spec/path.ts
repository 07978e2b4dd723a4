/**
 * Dotted field paths as users read them: `deployment.health_check.deadline`,
 * `selector.match_expressions[2]`, `labels.env`. A key that is not a plain
 * identifier is quoted in brackets: `meta["expanso.io/owner"]`.
 */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(segments: readonly PropertyKey[]): string {
  let path = '';
  for (const segment of segments) {
    if (typeof segment === 'number') {
      path += `[${segment}]`;
      continue;
    }
    const key = typeof segment === 'symbol' ? segment.toString() : segment;
    if (!PLAIN_KEY.test(key)) path += `[${JSON.stringify(key)}]`;
    else path += path === '' ? key : `.${key}`;
  }
  return path;
}

/** `prefix.key`, or `prefix["a.b"]` for a key that is not a plain name. */
export function joinPath(prefix: string, key: string): string {
  const tail = formatPath([key]);
  return prefix === '' || tail.startsWith('[') ? `${prefix}${tail}` : `${prefix}.${tail}`;
}
