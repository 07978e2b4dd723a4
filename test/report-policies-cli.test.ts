/**
 * `compare --report FILE` and `tune --report FILE`: the page holds the table
 * of policies (`#compare`, `#ranking`); a path that cannot be written, or one
 * that names an input (the scenario, a JobSpec it names, a policy file), is
 * bad input (§8: exit 2, naming the path) and leaves every file as it was; a
 * run refused on bad input leaves no report behind.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, expectCleanFailure, REPO, runCompiled, tempDir } from './cli-harness.js';

const POLICY = 'simulations/policies/canary-1pct-window-48.yaml';
const TUNE = ['--budget', 'exposed_p99<=2%', '--budget', 'false_abort<=1%', '--vary', 'canary_percent=1,2', '--vary', 'max_parallel=50', '--runs', '8'];

describe('§8 compare --report and tune --report', () => {
  let main: string;
  let folder: string;
  const temp = tempDir();
  beforeAll(() => {
    main = buildCli('report-policies-cli');
    // A copy of choose-canary.yaml with its JobSpecs and a policy, so overwriting can be tried on files we own.
    folder = join(temp.dir, 'inputs');
    mkdirSync(join(folder, 'jobs'), { recursive: true });
    copyFileSync(join(REPO, 'simulations/choose-canary.yaml'), join(folder, 'scenario.yaml'));
    for (const job of ['log-processor-v1.yaml', 'log-processor-v2-canary.yaml']) copyFileSync(join(REPO, 'simulations/jobs', job), join(folder, 'jobs', job));
    copyFileSync(join(REPO, POLICY), join(folder, 'policy.yaml'));
  }, 120_000);
  afterAll(() => temp.cleanup());

  it('§8 compare and tune each write one page with their table', () => {
    const compared = join(temp.dir, 'compare.html');
    const compare = runCompiled(main, ['compare', 'scenario.yaml', '--policy', 'policy.yaml', '--runs', '8', '--report', compared], { cwd: folder });
    expect(compare.status, compare.stderr).toBe(0);
    const comparePage = readFileSync(compared, 'utf8');
    expect(comparePage).toContain('<table class="numbers compare stack" data-table="compare">');
    expect(comparePage).toContain('<th scope="col">policy.yaml (canary)</th>');
    const tuned = join(temp.dir, 'tune.html');
    const tune = runCompiled(main, ['tune', 'scenario.yaml', ...TUNE, '--report', tuned], { cwd: folder });
    expect(tune.status, tune.stderr).toBe(0);
    expect(readFileSync(tuned, 'utf8')).toMatch(/data-table="ranking">.*<tr data-key="(winner|nearest_miss)">/s);
  });

  it('§8 never overwrites an input: the scenario, a JobSpec it names, a policy file', () => {
    const files = ['scenario.yaml', 'jobs/log-processor-v2-canary.yaml', 'policy.yaml'];
    const before = files.map((file) => readFileSync(join(folder, file), 'utf8'));
    for (const target of ['scenario.yaml', './jobs/log-processor-v2-canary.yaml', 'policy.yaml']) {
      expectCleanFailure(runCompiled(main, ['compare', 'scenario.yaml', '--policy', 'policy.yaml', '--report', target], { cwd: folder }), 2, target, 'would overwrite the input file');
    }
    for (const target of ['scenario.yaml', 'jobs/log-processor-v1.yaml']) {
      expectCleanFailure(runCompiled(main, ['tune', 'scenario.yaml', ...TUNE, '--report', target], { cwd: folder }), 2, target, 'would overwrite the input file');
    }
    expect(files.map((file) => readFileSync(join(folder, file), 'utf8'))).toEqual(before);
  });

  it('§8 an unwritable path exits 2 naming it; a refused policy leaves no report behind', () => {
    const missing = join(temp.dir, 'missing', 'report.html');
    expectCleanFailure(runCompiled(main, ['compare', 'scenario.yaml', '--policy', 'policy.yaml', '--report', missing], { cwd: folder }), 2, missing, 'ENOENT');
    expectCleanFailure(runCompiled(main, ['tune', 'scenario.yaml', ...TUNE, '--report', missing], { cwd: folder }), 2, missing, 'ENOENT');
    const left = join(temp.dir, 'never.html');
    const badPolicy = temp.file('bad-policy.yaml', 'deployment:\n  max_paralel: 3\n');
    expectCleanFailure(runCompiled(main, ['compare', 'scenario.yaml', '--policy', badPolicy, '--report', left], { cwd: folder }), 2, 'max_paralel');
    expect(existsSync(left)).toBe(false);
  });
});
