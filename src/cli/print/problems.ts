import type { Problem } from '../../spec/types.js';
import type { Colors } from './colors.js';
import { safeText } from './safeText.js';

/**
 * `source: path: message`, or `source: message` for a problem with the whole
 * file. The document reader's messages already start with the source
 * (`job.yaml:3:7: ...`, compiler-style) and are printed as they are. Paths and
 * messages quote the user's keys and values, so the line is made safe to print.
 */
export function formatProblem(source: string, { path, message }: Problem): string {
  if (path !== '') return safeText(`${source}: ${path}: ${message}`);
  return safeText(message.startsWith(`${source}:`) ? message : `${source}: ${message}`);
}

/** `N things` with the right plural. */
export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A list of problems, one indented `file: path: message` line each. */
export function problemLines(source: string, problems: Problem[], paint: (text: string) => string): string[] {
  return problems.map((problem) => `  ${paint(formatProblem(source, problem))}`);
}

/** Warnings block (empty when there are none). */
export function warningLines(source: string, warnings: Problem[], colors: Colors): string[] {
  if (warnings.length === 0) return [];
  return [colors.yellow(`${safeText(source)}: ${count(warnings.length, 'warning')}`), ...problemLines(source, warnings, colors.yellow)];
}
