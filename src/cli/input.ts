/**
 * Reading a FILE argument (or `-` for standard input) as bytes, with every
 * way that can go wrong turned into an `InputError` naming the file.
 * Parsing is the spec's business (`parseDocument`, `loadJobSpec`).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError } from './errors.js';
import type { CliIO } from './io.js';

/** What a file is expected to hold, and how large it may be. */
export interface InputKind {
  /** For messages: "a JobSpec", "a fleet or scenario". */
  noun: string;
  maxBytes: number;
}

const MIB = 1024 * 1024;

/** A JobSpec is a small document; its `config` payload rarely needs more than a few KB. */
export const JOBSPEC_INPUT: InputKind = { noun: 'a JobSpec', maxBytes: MIB };
/** Explicit nodes take ~60 bytes each; large fleets are written as generated groups. */
export const FLEET_INPUT: InputKind = { noun: 'a fleet or scenario', maxBytes: 8 * MIB };

export const STDIN_SOURCE = '<stdin>';

export interface InputBytes {
  /** The name used in messages: the path as given, or `<stdin>`. */
  source: string;
  bytes: Uint8Array;
}

export async function readInput(file: string, kind: InputKind, io: CliIO): Promise<InputBytes> {
  if (file === '-') return { source: STDIN_SOURCE, bytes: await readCapped(io.stdin, STDIN_SOURCE, kind) };
  const path = resolve(io.cwd, file);
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw InputError.single(file, `is a directory; expected ${kind.noun} file`);
    if (info.isFile() && info.size > kind.maxBytes) throw tooLarge(file, kind, info.size);
    // A stream, not readFile: FILE may be a pipe or a device that never ends.
    return { source: file, bytes: await readCapped(createReadStream(path), file, kind) };
  } catch (error) {
    throw error instanceof InputError ? error : InputError.single(file, describeFsError(error, kind));
  }
}

async function readCapped(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  source: string,
  kind: InputKind,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.byteLength;
    // Leaving the loop ends the iteration, which destroys a stream.
    if (size > kind.maxBytes) throw tooLarge(source, kind);
    parts.push(chunk);
  }
  return Buffer.concat(parts, size);
}

function tooLarge(source: string, kind: InputKind, size?: number): InputError {
  const limit = megabytes(kind.maxBytes);
  const found = size === undefined ? `more than the limit of ${limit}` : `${megabytes(size)}; the limit is ${limit}`;
  return InputError.single(source, `too large for ${kind.noun} (${found})`);
}

function megabytes(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;
}

function describeFsError(error: unknown, kind: InputKind): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return `is a directory; expected ${kind.noun} file`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied: cannot read the file';
    case 'ENOTDIR':
      return 'no such file (a part of the path is not a directory)';
    case 'ENAMETOOLONG':
      return 'the file name is too long';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return `cannot read the file (${code ?? (error instanceof Error ? error.message : String(error))})`;
  }
}
