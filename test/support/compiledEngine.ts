/**
 * The engine as plain JavaScript, for child processes that run with `node`
 * (no TypeScript loader). TypeScript's `transpileModule` over the import
 * closure of the entry points: no type check (`npm run typecheck` does that),
 * so it takes a second, not the twenty of a full `tsc` build. The output goes
 * under node_modules/.cache so that bare imports find node_modules by walking
 * up; each caller names its own folder, since test files run in parallel.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..', '..');

const OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.ES2022,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
};

/** Compiles `entries` (paths from the repository root) and what they import into a fresh folder; returns it. */
export function compileEngine(folder: string, entries: readonly string[] = ['src/engine/index.ts', 'src/sqlite.ts', 'src/engine/store/sqliteCompactorWorker.ts']): string {
  const out = join(ROOT, 'node_modules', '.cache', folder);
  rmSync(out, { recursive: true, force: true });
  const queue = entries.map((entry) => join(ROOT, entry));
  const seen = new Set(queue);
  while (queue.length > 0) {
    const file = queue.pop()!;
    const source = readFileSync(file, 'utf8');
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue; // a package: node_modules
      const target = resolve(dirname(file), imported.fileName.replace(/\.js$/, '.ts'));
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
    const { outputText } = ts.transpileModule(source, { fileName: file, compilerOptions: OPTIONS });
    const output = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, outputText);
  }
  return out;
}
