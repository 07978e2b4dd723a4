// `npm run test:packaged`: packs the package, installs the tarball in a fresh
// folder as a user would (--omit=optional: no native module is compiled),
// checks that fleet-rollout/testing imports, and runs the suite written from
// the docs (harness.test.ts) against it. Needs the npm registry.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'fleet-rollout-user-'));
try {
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'userproj', private: true, type: 'module' }));
  run('npm', ['install', '--omit=optional', '--no-audit', '--no-fund', `./${packed}`, 'vitest@^4', 'fast-check'], dir);
  if (readdirSync(join(dir, 'node_modules')).includes('better-sqlite3')) throw new Error('better-sqlite3 was installed despite --omit=optional');
  run('node', ['--input-type=module', '-e', "await import('fleet-rollout/testing'); await import('fleet-rollout'); console.log('fleet-rollout/testing imports')"], dir);
  run('node', ['--input-type=module', '-e', "try { await import('fleet-rollout/sqlite'); process.exit(1) } catch (e) { if (!/npm install better-sqlite3/.test(e.message)) throw e; console.log('fleet-rollout/sqlite: ' + e.message) }"], dir);
  // vitest 4's bundler (rolldown) ships its native binding as an optional dependency, which --omit=optional
  // left out: add the optional packages for the runner, with no install script run (nothing compiles).
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  copyFileSync(join(root, 'test/packaged/harness.test.ts'), join(dir, 'harness.test.ts'));
  run('npx', ['vitest', 'run', '--root', dir, 'harness.test.ts'], dir);
} finally {
  if (!process.env.KEEP_USERPROJ) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
