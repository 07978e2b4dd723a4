/**
 * A throwaway PostgreSQL cluster per test file (bench/postgresCluster.ts does
 * the work). Use `describe.skipIf(!POSTGRES_INSTALLED)`; without PostgreSQL
 * the file prints one line saying how to install it.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { findPostgresBin, POSTGRES_MISSING } from '../../bench/postgresCluster.js';

export { startPostgresCluster, type PostgresCluster } from '../../bench/postgresCluster.js';

export const POSTGRES_INSTALLED = findPostgresBin() !== null;
if (!POSTGRES_INSTALLED) console.warn(`skipping the PostgreSQL store's tests: ${POSTGRES_MISSING}`);

const ROOT = join(import.meta.dirname, '..', '..');
const STORE_SOURCES = ['src/engine/store/postgresStore.ts', 'src/engine/store/postgresObserver.ts', 'src/engine/store/asyncStore.ts'];

/**
 * Compiles the PostgreSQL store (its files need nothing else of ours at run
 * time) for child processes that run with plain `node`: one file at a time,
 * into a folder under node_modules so the output finds `pg`. Returns the folder.
 */
export function compileStoreForChildren(): string {
  const out = mkdtempSync(join(ROOT, 'node_modules', '.cache-fleet-rollout-pg-'));
  const sources = [...STORE_SOURCES, ...readdirSync(join(ROOT, 'src/engine/store/postgres')).map((file) => `src/engine/store/postgres/${file}`)];
  for (const source of sources.filter((file) => file.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
      fileName: source,
    });
    const target = join(out, source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  return out;
}
