/**
 * The CLI's whole contact with the process: two output streams, standard
 * input, the environment and the working directory. Commands take a `CliIO`
 * so tests can run them in memory; `processIO()` is the real one.
 */
export interface CliOutput {
  write(text: string): void;
  /** Colour is used only on a terminal. */
  readonly isTTY: boolean;
}

export interface CliIO {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Standard input as raw bytes, read only when a FILE argument is `-`. */
  readonly stdin: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function processIO(): CliIO {
  return {
    stdout: outputOf(process.stdout),
    stderr: outputOf(process.stderr),
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  };
}

function outputOf(stream: NodeJS.WriteStream): CliOutput {
  // A reader that went away (`fleet-rollout targets ... | head`) is not an error of ours.
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return {
    write: (text) => void stream.write(text),
    isTTY: stream.isTTY === true,
  };
}
