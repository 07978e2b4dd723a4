/** How a bench child hands its result to run.ts: one line on standard output. */
export const RESULT_PREFIX = 'RESULT ';

export function resultLine(result: object): string {
  return `${RESULT_PREFIX}${JSON.stringify(result)}\n`;
}

/** The result in a child's standard output, or null when it printed none. */
export function parseResult(stdout: string): Record<string, unknown> | null {
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  return line === undefined ? null : (JSON.parse(line.slice(RESULT_PREFIX.length)) as Record<string, unknown>);
}
