/**
 * A throwaway PostgreSQL cluster per test file (bench/postgresCluster.ts does
 * the work). Use `describe.skipIf(!POSTGRES_INSTALLED)`; without PostgreSQL
 * the file prints one line saying how to install it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { findPostgresBin, POSTGRES_MISSING } from '../../bench/postgresCluster.js';

export { startPostgresCluster, type PostgresCluster } from '../../bench/postgresCluster.js';

export const POSTGRES_INSTALLED = findPostgresBin() !== null;
if (!POSTGRES_INSTALLED) console.warn(`skipping the PostgreSQL store's tests: ${POSTGRES_MISSING}`);

const ROOT = join(import.meta.dirname, '..', '..');
const STORE_SOURCES = ['src/engine/store/postgresStore.ts', 'src/engine/store/postgresObserver.ts'];

/**
 * Compiles `entries` and every module of ours they import (transpiled one
 * file at a time, no type check: the suite's typecheck does that) for child
 * processes that run with plain `node`, into a folder under node_modules so
 * the output finds `pg` and the other packages. Returns the folder; the
 * compiled files keep their paths (`src/engine/index.js` ...). By default the
 * PostgreSQL store alone.
 */
export function compileForChildren(entries: readonly string[] = STORE_SOURCES): string {
  const out = mkdtempSync(join(ROOT, 'node_modules', '.cache-fleet-rollout-pg-'));
  const todo = [...entries];
  const done = new Set<string>();
  while (todo.length > 0) {
    const source = todo.pop()!;
    if (done.has(source)) continue;
    done.add(source);
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: source,
    });
    // Relative imports that survived the transpilation (type-only ones are gone) are ours to compile too.
    for (const [, specifier] of outputText.matchAll(/(?:\bfrom|\bimport\(?)\s*['"](\.{1,2}\/[^'"]+)\.js['"]/g)) {
      const dependency = relative(ROOT, resolve(ROOT, dirname(source), `${specifier}.ts`));
      if (existsSync(join(ROOT, dependency))) todo.push(dependency);
    }
    const target = join(out, source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return out;
}
