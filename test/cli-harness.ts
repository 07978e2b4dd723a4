/**
 * Shared by the CLI tests: builds the CLI once per test file into its own
 * output directory (test files run in parallel and must not race on dist/),
 * runs the compiled `main.js` as a child process, and offers an in-memory
 * `CliIO` for calling commands directly.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { CliIO } from '../src/cli/io.js';

export const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Under the repository, so the compiled CLI finds node_modules and package.json by walking up. */
const BUILDS = join(REPO, 'node_modules', '.cache', 'fleet-rollout-cli-tests');

/** Compiles the project (tsconfig.build.json) and returns the path of the compiled `main.js`. */
export function buildCli(suite: string): string {
  const outDir = join(BUILDS, suite);
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  // Type errors elsewhere in the tree are `npm run typecheck`'s to report; tsc still emits.
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO, encoding: 'utf8' });
  const main = join(outDir, 'src', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`the CLI did not compile:\n${build.stdout}${build.stderr}`);
  return main;
}

/**
 * A copy of a compiled CLI that any user can run: the build, the packages it
 * loads and package.json, in a fresh world-readable folder under the system's
 * temporary directory. A test that runs the CLI as another user (root testing
 * a permission error as `nobody`) needs it: a clone may sit in a private (0700)
 * folder that the other user cannot enter. `packages` are the npm packages the
 * commands run load (a missing one shows as "Cannot find package" on stderr).
 */
export function cliForAnyUser(main: string, packages: readonly string[]): { main: string; cleanup: () => void } {
  const build = resolve(main, '..', '..', '..');
  const root = mkdtempSync(join(tmpdir(), 'fleet-rollout-cli-any-user-'));
  cpSync(build, join(root, 'build'), { recursive: true });
  for (const name of packages) cpSync(join(REPO, 'node_modules', name), join(root, 'node_modules', name), { recursive: true, dereference: true });
  cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
  makeReadableByAll(root);
  return { main: join(root, 'build', 'src', 'cli', 'main.js'), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** chmod a+rX, recursively: files readable, folders enterable, whatever the umask of the clone. */
function makeReadableByAll(path: string): void {
  const info = statSync(path);
  chmodSync(path, info.mode | (info.isDirectory() ? 0o555 : 0o444));
  if (info.isDirectory()) for (const entry of readdirSync(path)) makeReadableByAll(join(path, entry));
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Uint8Array;
  /** Standard input from this file instead (for inputs the CLI stops reading early: no EPIPE in the test). */
  stdinFile?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Run as another user (root only): lets a root test see a permission error. */
  uid?: number;
}

export function runCompiled(main: string, args: string[], options: RunOptions = {}): CliRun {
  const spawnOptions: SpawnSyncOptions = {
    cwd: options.cwd ?? REPO,
    input: options.input ?? '',
    env: { PATH: process.env.PATH ?? '', ...options.env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  };
  if (options.uid !== undefined) Object.assign(spawnOptions, { uid: options.uid, gid: options.uid });
  const stdinFd = options.stdinFile === undefined ? undefined : openSync(options.stdinFile, 'r');
  if (stdinFd !== undefined) spawnOptions.stdio = [stdinFd, 'pipe', 'pipe'];
  const result = spawnSync(process.execPath, [main, ...args], spawnOptions);
  if (stdinFd !== undefined) closeSync(stdinFd);
  if (result.error) throw result.error;
  return { status: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Bad input never shows a stack trace, and stays a short message. */
export function expectCleanFailure(run: CliRun, code: number, ...mentions: string[]): void {
  expect(run.status, `stderr: ${run.stderr}`).toBe(code);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(25);
  for (const mention of mentions) expect(run.stderr).toContain(mention);
}

export function tempDir(): { dir: string; file: (name: string, content: string | Uint8Array) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-cli-'));
  const file = (name: string, content: string | Uint8Array): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A `CliIO` in memory: what the commands wrote, and standard input from a buffer. */
export function memoryIO(stdin: string | Uint8Array = '', env: Record<string, string> = {}, cwd = REPO) {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (text) => void (stdout += text), isTTY: false },
    stderr: { write: (text) => void (stderr += text), isTTY: false },
    stdin: [typeof stdin === 'string' ? Buffer.from(stdin) : stdin],
    env,
    cwd,
  };
  return { io, stdout: () => stdout, stderr: () => stderr };
}

/** A JSON document nested `depth` levels deep. */
export function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}
