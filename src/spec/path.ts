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
