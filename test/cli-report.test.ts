/**
 * `simulate --report FILE`: where the page may go. A path that cannot be
 * written, or one that names an input of the command, is bad input (§8:
 * exit 2, naming the path) and leaves every file as it was.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, expectCleanFailure, REPO, runCompiled, tempDir } from './cli-harness.js';

describe('§8 simulate --report', () => {
  let main: string;
  const temp = tempDir();
  beforeAll(() => {
    main = buildCli('cli-report');
  }, 120_000);
  afterAll(() => temp.cleanup());

  it('§8 writes one HTML page for one run and for --runs', () => {
    for (const extra of [[], ['--runs', '4']]) {
      const file = join(temp.dir, `ok-${extra.length}.html`);
      const run = runCompiled(main, ['simulate', 'simulations/flaky-region.yaml', '--report', file, ...extra]);
      expect(run.status, run.stderr).toBe(0);
      const html = readFileSync(file, 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).toContain(extra.length === 0 ? 'Nodes over time' : '4 runs');
    }
  });

  it('§8 a report path in a folder that does not exist exits 2 naming the path', () => {
    const file = join(temp.dir, 'missing', 'report.html');
    expectCleanFailure(runCompiled(main, ['simulate', 'simulations/flaky-region.yaml', '--report', file]), 2, file, 'cannot write the report', 'ENOENT');
  });

  it('§8 a report path that is a folder exits 2 naming the path', () => {
    const folder = join(temp.dir, 'a-folder');
    mkdirSync(folder);
    expectCleanFailure(runCompiled(main, ['simulate', 'simulations/flaky-region.yaml', '--report', folder]), 2, folder, 'EISDIR');
  });

  it('§8 never overwrites an input: the scenario, a JobSpec it reads (even through a link), the trace file', () => {
    const folder = join(temp.dir, 'inputs');
    mkdirSync(join(folder, 'jobs'), { recursive: true });
    const scenario = join(folder, 'scenario.yaml');
    copyFileSync(join(REPO, 'simulations/bad-version-rollback.yaml'), scenario);
    for (const job of ['log-processor-v1.yaml', 'log-processor-v2-rolling.yaml']) copyFileSync(join(REPO, 'simulations/jobs', job), join(folder, 'jobs', job));
    const link = join(folder, 'link-to-job.html');
    symlinkSync(join(folder, 'jobs', 'log-processor-v1.yaml'), link);
    const before = readFileSync(scenario, 'utf8');
    const job = readFileSync(join(folder, 'jobs', 'log-processor-v1.yaml'), 'utf8');

    expectCleanFailure(runCompiled(main, ['simulate', 'scenario.yaml', '--report', 'scenario.yaml'], { cwd: folder }), 2, 'scenario.yaml', 'would overwrite the input file');
    expectCleanFailure(runCompiled(main, ['simulate', 'scenario.yaml', '--report', './jobs/log-processor-v1.yaml'], { cwd: folder }), 2, './jobs/log-processor-v1.yaml', 'would overwrite');
    expectCleanFailure(runCompiled(main, ['simulate', 'scenario.yaml', '--report', link], { cwd: folder }), 2, link, 'would overwrite');
    expectCleanFailure(runCompiled(main, ['simulate', 'scenario.yaml', '--trace', 't.jsonl', '--report', 't.jsonl'], { cwd: folder }), 2, 't.jsonl', 'would overwrite');
    expect(readFileSync(scenario, 'utf8')).toBe(before);
    expect(readFileSync(join(folder, 'jobs', 'log-processor-v1.yaml'), 'utf8')).toBe(job);
  });

  it('§8 a scenario that cannot run leaves no report behind', () => {
    const scenario = temp.file('same.yaml', readFileSync(join(REPO, 'simulations/bad-version-rollback.yaml'), 'utf8').replace('job: jobs/log-processor-v2-rolling.yaml', 'job: jobs/log-processor-v1.yaml'));
    mkdirSync(join(temp.dir, 'jobs'), { recursive: true });
    copyFileSync(join(REPO, 'simulations/jobs/log-processor-v1.yaml'), join(temp.dir, 'jobs', 'log-processor-v1.yaml'));
    const file = join(temp.dir, 'never.html');
    expectCleanFailure(runCompiled(main, ['simulate', scenario, '--report', file]), 2, 'job');
    expect(existsSync(file)).toBe(false);
  });
});
