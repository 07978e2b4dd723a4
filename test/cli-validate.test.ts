import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateCommand } from '../src/cli/commands/validate.js';
import { InputError } from '../src/cli/errors.js';
import { colorsFor } from '../src/cli/print/colors.js';
import { runCli } from '../src/cli/program.js';
import { buildCli, cliForAnyUser, deeplyNested, expectCleanFailure, memoryIO, runCompiled, tempDir } from './cli-harness.js';

const CANARY = 'examples/jobs/log-processor-canary.yaml';
const BAD_JOB = `name: "bad name"
type: pipline
deployment:
  strategy: rolling
  max_paralel: 2
`;

/** The npm packages `validate FILE` loads (for the copy of the CLI another user runs). */
const VALIDATE_PACKAGES = ['commander', 'picocolors', 'yaml', 'zod', 'jsonc-parser'];

let main = '';
const scratch = tempDir();
const file = scratch.file;
const validate = (...args: string[]) => runCompiled(main, ['validate', ...args]);

beforeAll(() => {
  main = buildCli('validate');
}, 180_000);
afterAll(() => scratch.cleanup());

describe('§8 validate: valid JobSpecs (exit 0)', () => {
  it('§8 validate --json prints {valid: true, spec: <normalized, defaults filled>, warnings} with a format version', () => {
    const run = validate('examples/jobs/log-processor.yaml', '--json');
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const output = JSON.parse(run.stdout);
    expect(output).toMatchObject({ format: 1, valid: true, warnings: [] });
    expect(output.spec).toMatchObject({
      name: 'log-processor',
      namespace: 'production',
      type: 'pipeline',
      priority: 50,
      selector: { match_labels: { env: 'production', role: 'app-server' }, match_expressions: [], match_ids: [] },
      deployment: { strategy: 'immediate' },
    });
    expect(output.spec.config.pipeline.processors[0].mapping).toContain('root.processed_at = now()');
  });

  it('§8 every shipped example JobSpec is valid; the canary one is warned that one failed canary trips the 10% rule (§6)', () => {
    for (const example of ['log-processor.yaml', CANARY.split('/').at(-1), 'log-processor-rolling.yaml']) {
      const run = validate(`examples/jobs/${example}`, '--json');
      expect(run.status, run.stdout).toBe(0);
      const paths = JSON.parse(run.stdout).warnings.map((warning: { path: string }) => warning.path);
      expect(paths).toEqual(example === 'log-processor-canary.yaml' ? ['deployment.max_failed_nodes_percent'] : []);
    }
  });

  it('§8 the human report names the file and summarises the policy, without colour off a terminal', () => {
    const run = validate(CANARY);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`${CANARY}: valid JobSpec`);
    expect(run.stdout).toContain('production/log-processor (pipeline, priority 50)');
    expect(run.stdout).toContain('canary: the first 5 nodes as canaries, at most 2 updating at a time');
    expect(run.stdout).toContain('connected nodes with env=production and role=app-server');
    expect(run.stdout).not.toContain('\u001b[');
  });

  it('§8 FILE "-" reads the JobSpec from standard input', () => {
    const run = runCompiled(main, ['validate', '-', '--json'], { input: '{"name": "a", "type": "query"}' });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).spec).toMatchObject({ name: 'a', namespace: 'default', type: 'query', priority: 50 });
  });
});

describe('§4 §5 §6 validate explains the policy: how nodes are judged, what each phase tolerates', () => {
  it('§4 a query job is judged on completion, not "after 30s of passing reports"', () => {
    const path = file('query.yaml', 'name: q\ntype: query\ndeployment: { strategy: rolling, health_check: { deadline: 10m } }\n');
    const run = validate(path);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('judging   a node is stable when its query run completes successfully');
    expect(run.stdout).not.toMatch(/passing reports/);
    const json = JSON.parse(validate(path, '--json').stdout);
    expect(json.policy).toMatchObject({ judged_by: 'completion', targeted: null, canaries: null });
  });

  it('§6 validate FILE --fleet FLEET: targeted and canary counts, and the failures each phase tolerates', () => {
    const run = validate(CANARY, '--fleet', 'examples/fleets/production.yaml');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('fleet     examples/fleets/production.yaml: 26 nodes targeted');
    expect(run.stdout).toContain('tolerance canary group of 5: tolerates no failed node; the first fails the deployment (max_failed_nodes_percent 10 of 5 nodes)');
    expect(run.stdout).toContain('tolerance whole fleet of 26: tolerates 2 failed nodes; one more fails the deployment (max_failed_nodes_percent 10 of 26 nodes)');
    expect(run.stdout).toContain('deployment.max_failed_nodes_percent: in the canary group of 5, max_failed_nodes_percent 10 tolerates 0 failed nodes');
    const json = JSON.parse(validate(CANARY, '--fleet', 'simulations/canary-production.yaml', '--json').stdout);
    expect(json.policy).toEqual({
      judged_by: 'health_reports',
      judging: expect.stringMatching(/^a node is stable after 1m of passing health reports/),
      targeted: 2400,
      canaries: 5,
      phases: [
        { phase: 'canary', group: 5, tolerated_failures: 0, limited_by: 'max_failed_nodes_percent' },
        { phase: 'fleet', group: 2400, tolerated_failures: 3, limited_by: 'max_failed_nodes' },
      ],
      count_binds_from: null,
    });
    expect(json.warnings).toHaveLength(1);
  });

  it('§8 validate --fleet: a bad fleet is bad input naming the fleet file; FILE and --fleet cannot both be "-"', () => {
    const fleet = file('bad-fleet.yaml', 'nodes:\n  - { id: a, labels: { x: 1 } }\n');
    const run = validate(CANARY, '--fleet', fleet);
    expectCleanFailure(run, 2, `${fleet}: nodes[0].labels.x`);
    expect(run.stdout).toBe('');
    expectCleanFailure(runCompiled(main, ['validate', '-', '--fleet', '-']), 2, 'cannot both be "-"');
  });
});

describe('§8 validate: invalid JobSpecs (exit 2)', () => {
  it('§2 a duplicate JSON key is an error naming the file and the field', () => {
    const path = file('dup.json', '{"name": "a", "type": "query", "deployment": {"strategy": "rolling", "strategy": "immediate"}}');
    const run = validate(path, '--json');
    expectCleanFailure(run, 2, `${path}: invalid JobSpec`);
    expect(JSON.parse(run.stdout).errors).toEqual([
      { path: 'deployment.strategy', message: expect.stringMatching(/^duplicate key at line 1, column 70 \(first at line 1, column 47\)/) },
    ]);
    expectCleanFailure(validate(path), 2, `${path}: deployment.strategy: duplicate key`);
  });

  it('§2 §8 validate --json prints {valid: false, errors: [{path, message}], warnings} and exits 2', () => {
    const path = file('bad.yaml', BAD_JOB);
    const run = validate(path, '--json');
    expectCleanFailure(run, 2, `${path}: invalid JobSpec`);
    const output = JSON.parse(run.stdout);
    expect(output).toMatchObject({ format: 1, valid: false });
    const paths = output.errors.map((problem: { path: string }) => problem.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'type', 'deployment.max_paralel']));
    for (const problem of output.errors) expect(Object.keys(problem).sort()).toEqual(['message', 'path']);
  });

  it('§8 the human report lists every error as file: path: message on standard error', () => {
    const path = file('bad-human.yaml', BAD_JOB);
    const run = validate(path);
    expectCleanFailure(run, 2, `${path}: invalid JobSpec`, `${path}: type: `, `${path}: deployment.max_paralel: `);
    expect(run.stdout).toBe('');
  });
});

describe('§8 validate: unreadable or malformed input ends with exit 2 and a short message naming the file', () => {
  const cases: Array<[string, () => string, string]> = [
    ['a missing file', () => join(scratch.dir, 'missing.yaml'), 'no such file'],
    ['a directory', () => scratch.dir, 'is a directory'],
    ['an empty file', () => file('empty.yaml', ''), 'empty'],
    ['a file of blanks and comments', () => file('comments.yaml', '# nothing here\n\n'), 'empty'],
    ['a binary file', () => file('binary.yaml', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0xff])), 'not a text file'],
    ['malformed YAML', () => file('malformed.yaml', 'name: a\n  type: [pipeline\n'), 'malformed.yaml:'],
    ['malformed JSON', () => file('malformed.json', '{"name": "a", "type": }'), 'malformed.json'],
    ['a 20,000-level nested JSON document', () => file('deep.json', deeplyNested(20_000)), 'nested too deeply'],
    ['a 20,000-level nested YAML document', () => file('deep.yaml', `${'- '.repeat(20_000)}x\n`), 'nested too deeply'],
    ['a 30 MB file', () => file('huge.json', `{"name": "a", "type": "query", "config": "${'x'.repeat(30 * 1024 * 1024)}"}`), 'too large'],
  ];
  for (const [kind, make, says] of cases) {
    it(`§8 ${kind}`, () => {
      const path = make();
      const run = validate(path);
      expectCleanFailure(run, 2, path, says);
      expect(run.stdout).toBe('');
    });
  }

  it('§8 an unreadable file', () => {
    const dir = join(scratch.dir, 'locked');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(scratch.dir, 0o755);
    const path = join(dir, 'secret.yaml');
    writeFileSync(path, 'name: a\ntype: query\n', { mode: 0o000 });
    // Root reads anything: run the CLI as nobody then, from a copy nobody can reach
    // (the clone, and so the build under it, may sit in a private 0700 folder).
    const asRoot = process.getuid?.() === 0;
    const cli = asRoot ? cliForAnyUser(main, VALIDATE_PACKAGES) : { main, cleanup: () => {} };
    try {
      const run = runCompiled(cli.main, ['validate', path], { uid: asRoot ? 65534 : undefined, cwd: '/' });
      expectCleanFailure(run, 2, path, 'permission denied');
    } finally {
      cli.cleanup();
    }
  });

  it('§8 standard input: empty, binary, too large', () => {
    expectCleanFailure(runCompiled(main, ['validate', '-'], { input: '' }), 2, '<stdin>', 'empty');
    expectCleanFailure(runCompiled(main, ['validate', '-'], { input: new Uint8Array([0, 159, 146, 150]) }), 2, '<stdin>', 'not a text file');
    const huge = file('huge-stdin.yaml', 'x'.repeat(3 * 1024 * 1024));
    expectCleanFailure(runCompiled(main, ['validate', '-'], { stdinFile: huge }), 2, '<stdin>', 'too large');
  });

  it('§8 --json does not change how unreadable input is reported', () => {
    const run = validate(join(scratch.dir, 'missing.json'), '--json');
    expectCleanFailure(run, 2, 'missing.json: no such file');
    expect(run.stdout).toBe('');
  });
});

describe('§8 validate: command-line misuse ends with exit 2', () => {
  it('§8 an unknown option', () => {
    expectCleanFailure(validate(CANARY, '--jsn'), 2, "unknown option '--jsn'");
  });
  it('§8 a missing FILE', () => {
    expectCleanFailure(validate(), 2, "missing required argument 'file'");
  });
  it('§8 an extra argument', () => {
    expectCleanFailure(validate(CANARY, 'other.yaml'), 2, 'too many arguments');
  });
  it('§8 an unknown command, and no command at all', () => {
    expectCleanFailure(runCompiled(main, ['valdate', CANARY]), 2, "unknown command 'valdate'");
    const bare = runCompiled(main, []);
    expectCleanFailure(bare, 2, 'Usage: fleet-rollout');
  });
});

describe('§8 the fleet-rollout command', () => {
  it('§8 --help lists every command with a one-line description and examples', () => {
    const run = runCompiled(main, ['--help']);
    expect(run.status).toBe(0);
    for (const command of ['validate', 'targets', 'simulate']) expect(run.stdout).toMatch(new RegExp(`^  ${command} .+\\S`, 'm'));
    expect(run.stdout).toContain('Examples:');
    expect(run.stdout).toContain('Exit codes: 0 success, 1 the run itself broke, 2 bad input');
    const sub = runCompiled(main, ['help', 'validate']);
    expect(sub.status).toBe(0);
    expect(sub.stdout).toContain('Usage: fleet-rollout validate [options] <file>');
  });

  it('§8 --version prints the package version', () => {
    const run = runCompiled(main, ['--version']);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('§8 validate called directly', () => {
  it('§8 validateCommand returns the validation result as data', async () => {
    const { io } = memoryIO();
    const outcome = await validateCommand({ file: CANARY }, io);
    expect(outcome.source).toBe(CANARY);
    expect(outcome.result.valid).toBe(true);
  });

  it('§8 validateCommand reads "-" from the io, and throws InputError for a missing file', async () => {
    const { io } = memoryIO('name: x\ntype: config\n');
    expect((await validateCommand({ file: '-' }, io)).result).toMatchObject({ valid: true, spec: { name: 'x' } });
    await expect(validateCommand({ file: 'nope.yaml' }, io)).rejects.toBeInstanceOf(InputError);
  });

  it('§8 runCli maps an internal error to exit 1 with a short message; FLEET_ROLLOUT_DEBUG=1 shows the stack', async () => {
    for (const [env, stack] of [[{}, false], [{ FLEET_ROLLOUT_DEBUG: '1' }, true]] as const) {
      const memory = memoryIO('', env);
      const broken = { ...memory.io, stdout: { isTTY: false, write: () => { throw new Error('disk on fire'); } } };
      expect(await runCli(['validate', CANARY], broken)).toBe(1);
      expect(memory.stderr()).toContain('fleet-rollout: internal error: ');
      expect(memory.stderr()).toContain('disk on fire');
      expect(/^\s+at /m.test(memory.stderr())).toBe(stack);
    }
  });

  it('§8 colour only on a terminal, and never with NO_COLOR set', () => {
    const terminal = { isTTY: true, write: () => {} };
    expect(colorsFor(terminal, {}).red('x')).not.toBe('x');
    expect(colorsFor(terminal, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(colorsFor({ ...terminal, isTTY: false }, {}).red('x')).toBe('x');
  });
});
