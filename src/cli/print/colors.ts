import pc from 'picocolors';
import type { CliIO, CliOutput } from '../io.js';

export type Colors = ReturnType<typeof pc.createColors>;

/** Colour only on a terminal, and never when NO_COLOR is set to something (no-color.org). */
export function colorsFor(output: CliOutput, env: CliIO['env']): Colors {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return pc.createColors(output.isTTY && !noColor);
}
