import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli/program.js';
import { DEFAULT_BEHAVIOR } from '../src/sim/behavior.js';
import { DEFAULT_HORIZON_MS, DEFAULT_SEED, loadScenario, type ReadJobFile, type Scenario, type SourcedProblem } from '../src/sim/scenario.js';
import { memoryIO, tempDir } from './cli-harness.js';

const JOB = {
  name: 'log-processor',
  namespace: 'production',
  type: 'pipeline',
  selector: { match_labels: { env: 'production' } },
  deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '5m', min_healthy_time: '30s' } },
};

/** JobSpec files in memory, by the path the scenario loader asks for. */
function files(entries: Record<string, unknown>): ReadJobFile {
  return async (file) => {
    const content = entries[file];
    if (content === undefined) return { ok: false, message: 'no such file' };
    return { ok: true, bytes: Buffer.from(typeof content === 'string' ? content : stringify(content)) };
  };
}

const BASE = {
  fleet: { nodes: [{ id: 'edge-001', labels: { env: 'production' } }, { id: 'edge-002', labels: { env: 'production' } }] },
  previous: 'jobs/v1.yaml',
  job: 'jobs/v2.yaml',
};
const JOB_FILES = { 'sims/jobs/v1.yaml': JOB, 'sims/jobs/v2.yaml': { ...JOB, labels: { version: '2' } } };

async function load(scenario: unknown, jobFiles: Record<string, unknown> = JOB_FILES) {
  const text = typeof scenario === 'string' ? scenario : stringify(scenario);
  return loadScenario(text, 'sims/what-if.yaml', files(jobFiles));
}

async function valid(scenario: unknown, jobFiles?: Record<string, unknown>): Promise<Scenario> {
  const result = await load(scenario, jobFiles);
  if (!result.ok) throw new Error(`expected a valid scenario, got ${JSON.stringify(result.errors)}`);
  return result.scenario;
}

async function problems(scenario: unknown, jobFiles?: Record<string, unknown>): Promise<SourcedProblem[]> {
  const result = await load(scenario, jobFiles);
  if (result.ok) throw new Error('expected scenario problems');
  return result.errors;
}

/** The single problem at `path`, in the scenario file unless `source` says otherwise. */
async function expectProblem(scenario: unknown, path: string, message: RegExp, source = 'sims/what-if.yaml', jobFiles?: Record<string, unknown>) {
  const found = await problems(scenario, jobFiles);
  expect(found, JSON.stringify(found)).toContainEqual({ source, path, message: expect.stringMatching(message) });
}

describe('§9 scenario: defaults and resolution', () => {
  it('§9 seed defaults to 1, horizon to 24h, behavior to a healthy version', async () => {
    const scenario = await valid(BASE);
    expect(scenario.seed).toBe(DEFAULT_SEED);
    expect(scenario.horizon).toBe(DEFAULT_HORIZON_MS);
    expect(scenario.behavior).toEqual({ base: DEFAULT_BEHAVIOR, overrides: [] });
    expect(scenario.fleet.map((node) => node.id)).toEqual(['edge-001', 'edge-002']);
  });

  it('§9 JobSpec paths are relative to the scenario file', async () => {
    const scenario = await valid(BASE);
    expect(scenario.previous?.name).toBe('log-processor');
    expect(scenario.job.labels).toEqual({ version: '2' });
  });

  it('§9 JobSpecs may be inline; previous is optional (the job is then created)', async () => {
    const scenario = await valid({ fleet: BASE.fleet, job: JOB });
    expect(scenario.previous).toBeNull();
    expect(scenario.job.deployment.strategy).toBe('rolling');
  });

  it('§9 a single start_delay or error_rate is a range of one value; durations are milliseconds', async () => {
    const scenario = await valid({ ...BASE, behavior: { start_delay: '1.5s', error_rate: 0.02, report_interval: '1m' } });
    expect(scenario.behavior.base).toMatchObject({
      start_delay: { min: 1500, max: 1500 },
      error_rate: { min: 0.02, max: 0.02 },
      report_interval: 60_000,
    });
  });

  it('§9 events run in order of at, then file order', async () => {
    const scenario = await valid({
      ...BASE,
      events: [
        { at: '9m', connect: ['edge-001'] },
        { at: '1m', disconnect: ['edge-001'] },
        { at: '1m', pause: true },
        { at: '90s', resume: true },
      ],
    });
    expect(scenario.events.map((event) => `${event.at}:${event.type}`)).toEqual(['60000:disconnect', '60000:pause', '90000:resume', '540000:connect']);
  });

  it('§9 a node joined earlier can be disconnected later; submit loads a JobSpec', async () => {
    const scenario = await valid(
      {
        ...BASE,
        events: [
          { at: '5m', disconnect: ['edge-900'] },
          { at: '4m', join: [{ id: 'edge-900', labels: { env: 'production' } }] },
          { at: '6m', submit: 'jobs/v3.yaml' },
        ],
      },
      { ...JOB_FILES, 'sims/jobs/v3.yaml': { ...JOB, labels: { version: '3' } } },
    );
    expect(scenario.events[0]).toEqual({ type: 'join', at: 240_000, nodes: [{ id: 'edge-900', labels: { env: 'production' }, connected: true }] });
    expect(scenario.events[2]).toMatchObject({ type: 'submit', spec: { labels: { version: '3' } } });
  });

  it('§9 overrides keep their selector and only the fields they set', async () => {
    const scenario = await valid({
      ...BASE,
      behavior: { overrides: [{ selector: { match_expressions: ['region=us-east'] }, fail_probability: 0.9 }] },
    });
    expect(scenario.behavior.overrides).toEqual([
      { selector: { match_expressions: ['region=us-east'], match_ids: [] }, behavior: { fail_probability: 0.9 } },
    ]);
  });
});

describe('§9 scenario: every problem is reported at once, with its file and path', () => {
  it('§9 unknown keys get a "did you mean" hint, at every level', async () => {
    const found = await problems({
      ...BASE,
      behaviour: {},
      behavior: { fail_probabilty: 0.1, overrides: [{ selector: {}, crash_probability: 0.1, colour: 1 }] },
      events: [{ at: '1m', promote: true, when: 'now' }],
    });
    expect(found).toEqual(
      expect.arrayContaining([
        { source: 'sims/what-if.yaml', path: 'behaviour', message: expect.stringContaining('did you mean `behavior`?') },
        { source: 'sims/what-if.yaml', path: 'behavior.fail_probabilty', message: expect.stringContaining('did you mean `fail_probability`?') },
        { source: 'sims/what-if.yaml', path: 'behavior.overrides[0].colour', message: expect.stringContaining('unknown field') },
        { source: 'sims/what-if.yaml', path: 'events[0].when', message: expect.stringContaining('unknown field') },
      ]),
    );
  });

  it('§9 probabilities and error rates must lie in 0..1', async () => {
    const found = await problems({ ...BASE, behavior: { fail_probability: 1.5, crash_probability: -0.1, error_rate: { min: 0, max: 2 } } });
    expect(found.map((problem) => problem.path)).toEqual(['behavior.fail_probability', 'behavior.crash_probability', 'behavior.error_rate.max']);
    expect(found[0]!.message).toBe('expected a number from 0 to 1, found 1.5');
  });

  it('§9 durations are Go durations: a unit is needed, negatives and zero intervals are refused', async () => {
    const found = await problems({
      ...BASE,
      horizon: '0s',
      behavior: { report_interval: 10, start_delay: { min: '-1s', max: '2 seconds' } },
    });
    expect(found).toEqual([
      { source: 'sims/what-if.yaml', path: 'horizon', message: expect.stringMatching(/expected a Go duration > 0.*found "0s"/) },
      { source: 'sims/what-if.yaml', path: 'behavior.start_delay.min', message: expect.stringContaining('found "-1s"') },
      { source: 'sims/what-if.yaml', path: 'behavior.start_delay.max', message: expect.stringContaining('unknown unit " seconds"') },
      { source: 'sims/what-if.yaml', path: 'behavior.report_interval', message: expect.stringContaining('durations need a unit: "10s"') },
    ]);
  });

  it('§9 a duration that rounds to 0 ms says the simulator counts whole milliseconds', async () => {
    await expectProblem({ ...BASE, behavior: { report_interval: '100us' } }, 'behavior.report_interval', /found "100us" \(the simulator counts whole milliseconds\)/);
  });

  it('§9 a range with min > max is refused', async () => {
    await expectProblem({ ...BASE, behavior: { start_delay: { min: '20s', max: '2s' } } }, 'behavior.start_delay', /min \("20s"\) is greater than max \("2s"\)/);
    await expectProblem({ ...BASE, behavior: { error_rate: { min: 0.5, max: 0.1 } } }, 'behavior.error_rate', /min \(0.5\) is greater than max \(0.1\)/);
    await expectProblem({ ...BASE, behavior: { error_rate: { min: 0.5 } } }, 'behavior.error_rate.max', /required/);
  });

  it('§9 negative counts and duplicate node ids in the fleet', async () => {
    await expectProblem({ ...BASE, fleet: { groups: [{ count: -5, prefix: 'edge-' }] } }, 'fleet.groups[0].count', /expected an integer >= 0, found -5/);
    await expectProblem(
      { ...BASE, fleet: { nodes: [{ id: 'edge-001' }, { id: 'edge-001' }] } },
      'fleet.nodes[1].id',
      /duplicate node id "edge-001"/,
    );
  });

  it('§9 seed is an integer >= 0; fleet and job are required', async () => {
    const found = await problems({ seed: -1 });
    expect(found.map((problem) => problem.path)).toEqual(['seed', 'fleet', 'job']);
    await expectProblem({ ...BASE, seed: 1.5 }, 'seed', /expected an integer from 0/);
  });

  it('§9 events naming unknown nodes; a join counts only once it happened', async () => {
    await expectProblem({ ...BASE, events: [{ at: '1m', disconnect: ['edge-404'] }] }, 'events[0].disconnect[0]', /unknown node "edge-404"/);
    await expectProblem(
      {
        ...BASE,
        events: [
          { at: '1m', connect: ['edge-900'] },
          { at: '2m', join: [{ id: 'edge-900' }] },
        ],
      },
      'events[0].connect[0]',
      /unknown node "edge-900": not in the fleet, nor joined by an earlier event/,
    );
  });

  it('§9 one bad node in the fleet or in a join does not make events naming the others unknown', async () => {
    const fleet = {
      nodes: [{ id: 'edge-001', labels: { env: 'production' } }, { id: 'edge-002', labels: { env: 5 } }],
      groups: [{ count: 3, prefix: 'gen-' }],
    };
    const found = await problems({
      ...BASE,
      fleet,
      events: [
        { at: '1m', disconnect: ['edge-001', 'edge-002', 'gen-003'] },
        { at: '2m', join: [{ id: 'late-1' }, { id: 'late-2', connected: 'yes' }] },
        { at: '3m', connect: ['edge-001', 'late-1', 'late-2', 'edge-404'] },
      ],
    });
    expect(found.map((problem) => problem.path)).toEqual(['fleet.nodes[1].labels.env', 'events[1].join[1].connected', 'events[2].connect[3]']);
    expect(found[2]?.message).toMatch(/unknown node "edge-404"/);
  });

  it('§9 a joining node must be new and valid', async () => {
    await expectProblem({ ...BASE, events: [{ at: '1m', join: [{ id: 'edge-001' }] }] }, 'events[0].join[0].id', /already in the fleet/);
    await expectProblem({ ...BASE, events: [{ at: '1m', join: [{ id: 'edge 9' }] }] }, 'events[0].join[0].id', /without whitespace/);
    await expectProblem({ ...BASE, events: [{ at: '1m', join: [] }] }, 'events[0].join', /non-empty list of nodes/);
  });

  it('§9 at must be a duration within the horizon', async () => {
    await expectProblem({ ...BASE, events: [{ at: 'soon', pause: true }] }, 'events[0].at', /expected a Go duration/);
    await expectProblem({ ...BASE, events: [{ pause: true }] }, 'events[0].at', /required/);
    await expectProblem({ ...BASE, horizon: '1h', events: [{ at: '2h', pause: true }] }, 'events[0].at', /past the horizon/);
  });

  it('§9 an event has exactly one action, and operator actions take true', async () => {
    await expectProblem({ ...BASE, events: [{ at: '1m' }] }, 'events[0]', /expected exactly one action .* found none/);
    await expectProblem({ ...BASE, events: [{ at: '1m', pause: true, resume: true }] }, 'events[0]', /found pause and resume; split them/);
    await expectProblem({ ...BASE, events: [{ at: '1m', promote: 'yes' }] }, 'events[0].promote', /expected true, found "yes"/);
    await expectProblem({ ...BASE, events: { at: '1m' } }, 'events', /expected a list of events/);
  });

  it('§9 overrides need a selector whose expressions parse, and a behavior field', async () => {
    const found = await problems({
      ...BASE,
      behavior: {
        overrides: [{ fail_probability: 0.1 }, { selector: { match_expressions: ['region in (a'] }, fail_probability: 0.1 }, { selector: {} }],
      },
    });
    expect(found.map((problem) => problem.path)).toEqual([
      'behavior.overrides[0].selector',
      'behavior.overrides[1].selector.match_expressions[0]',
      'behavior.overrides[2]',
    ]);
    expect(found[1]!.message).toMatch(/^column \d+: /);
  });

  it('§9 a JobSpec file that cannot be read is named, resolved against the scenario folder', async () => {
    await expectProblem({ ...BASE, job: 'jobs/missing.yaml' }, 'job', /cannot read the JobSpec "sims\/jobs\/missing.yaml": no such file/);
  });

  it("§9 a JobSpec file's own errors name that file and its field", async () => {
    const broken = { ...JOB, deployment: { strategy: 'sideways' } };
    const found = await problems({ ...BASE, job: 'jobs/broken.yaml' }, { ...JOB_FILES, 'sims/jobs/broken.yaml': broken });
    expect(found).toContainEqual({ source: 'sims/jobs/broken.yaml', path: 'deployment.strategy', message: expect.any(String) });
  });

  it("§9 an inline JobSpec's errors are under the scenario's field", async () => {
    await expectProblem({ ...BASE, job: { ...JOB, priority: 500 } }, 'job.priority', /.+/);
    await expectProblem({ ...BASE, job: 42 }, 'job', /expected a JobSpec: a file path or an inline object, found 42/);
    await expectProblem(
      { ...BASE, events: [{ at: '1m', submit: { ...JOB, type: 'daemon' } }] },
      'events[0].submit.type',
      /.+/,
    );
  });

  it('§9 every JobSpec of a scenario is a version of the same job', async () => {
    await expectProblem({ ...BASE, job: { ...JOB, name: 'other' } }, 'job', /names the job "production\/other", but previous is "production\/log-processor"/);
  });

  it('§9 a document that is not a scenario', async () => {
    await expectProblem('[1, 2]', '', /expected a scenario/);
    const found = await problems('fleet: {\n');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/^sims\/what-if.yaml:\d+:\d+: /);
  });

  it('§9 problems of the scenario and of its JobSpec files come together', async () => {
    const found = await problems(
      { ...BASE, seed: 'x', job: 'jobs/broken.yaml', events: [{ at: '1m', disconnect: ['nope'] }] },
      { ...JOB_FILES, 'sims/jobs/broken.yaml': { ...JOB, name: '' } },
    );
    expect(found.map((problem) => `${problem.source}: ${problem.path}`)).toEqual(
      expect.arrayContaining(['sims/what-if.yaml: seed', 'sims/what-if.yaml: events[0].disconnect[0]', 'sims/jobs/broken.yaml: name']),
    );
  });
});

describe('§8 simulate: bad input exits 2 with file: path: message lines, never a stack trace', () => {
  async function simulate(files: Record<string, unknown>, args: string[] = []) {
    const { dir, cleanup } = tempDir();
    try {
      for (const [name, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), typeof content === 'string' ? content : stringify(content));
      }
      const memory = memoryIO('', {}, dir);
      const code = await runCli(['simulate', 'sims/what-if.yaml', '--no-progress', ...args], memory.io);
      return { code, stdout: memory.stdout(), stderr: memory.stderr() };
    } finally {
      cleanup();
    }
  }
  const expectBadInput = (run: { code: number; stdout: string; stderr: string }, ...lines: string[]) => {
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    for (const line of lines) expect(run.stderr).toContain(line);
  };

  it('§8 problems in the scenario and in a JobSpec file it names, each under its own file', async () => {
    const run = await simulate({
      'sims/what-if.yaml': { ...BASE, job: 'jobs/broken.yaml', behavior: { fail_probability: 2 } },
      'sims/jobs/v1.yaml': JOB,
      'sims/jobs/broken.yaml': { ...JOB, deployment: { strategy: 'rolling' } },
    });
    expectBadInput(run, 'sims/what-if.yaml: behavior.fail_probability: expected a number from 0 to 1, found 2', 'sims/jobs/broken.yaml: deployment.health_check: ');
  });

  it('§8 a missing scenario, a missing JobSpec file, a document that does not parse', async () => {
    expectBadInput(await simulate({}), 'sims/what-if.yaml: no such file');
    expectBadInput(await simulate({ 'sims/what-if.yaml': BASE }), 'sims/what-if.yaml: previous: cannot read the JobSpec "sims/jobs/v1.yaml": no such file');
    const run = await simulate({ 'sims/what-if.yaml': 'fleet: [\n' });
    expectBadInput(run, 'sims/what-if.yaml:');
    expect(run.stderr).not.toContain('sims/what-if.yaml: sims/what-if.yaml');
  });

  it('§8 a scenario that cannot run as written (previous targets nothing) is bad input', async () => {
    const run = await simulate({
      'sims/what-if.yaml': { ...BASE, fleet: { nodes: [{ id: 'edge-1', labels: { env: 'production' }, connected: false }] } },
      'sims/jobs/v1.yaml': JOB,
      'sims/jobs/v2.yaml': { ...JOB, labels: { version: '2' } },
    });
    expectBadInput(run, 'sims/what-if.yaml: previous: cannot be in place at time 0');
  });

  it('§8 a trace file that cannot be written names it', async () => {
    const run = await simulate(
      { 'sims/what-if.yaml': { fleet: BASE.fleet, job: JOB } },
      ['--trace', 'no/such/dir/trace.jsonl'],
    );
    expectBadInput(run, 'no/such/dir/trace.jsonl: cannot write the trace: ENOENT');
  });

  it('§8 SCENARIO may be "-": JobSpec paths are then relative to the working directory', async () => {
    const { dir, cleanup } = tempDir();
    try {
      mkdirSync(join(dir, 'jobs'));
      writeFileSync(join(dir, 'jobs', 'v2.yaml'), stringify(JOB));
      const memory = memoryIO(stringify({ fleet: BASE.fleet, job: 'jobs/v2.yaml' }), {}, dir);
      const code = await runCli(['simulate', '-', '--json'], memory.io);
      expect(code, memory.stderr()).toBe(0);
      expect(JSON.parse(memory.stdout())).toMatchObject({ outcome: 'completed', targeted: 2 });
    } finally {
      cleanup();
    }
  });

  it('§8 a valid scenario prints a summary: outcome, timeline, counts (exit 0)', async () => {
    const run = await simulate({ 'sims/what-if.yaml': { fleet: BASE.fleet, job: JOB, behavior: { start_delay: '5s' } } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('outcome   completed after 35 seconds');
    expect(run.stdout).toContain('timeline  0s in_progress ─ 35s completed');
    expect(run.stdout).toContain('nodes     2 targeted = 2 stable + 0 failed + 0 stopped + 0 removed + 0 updating + 0 untouched (2 exposed)');
  });
});
