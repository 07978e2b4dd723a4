import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetsCommand } from '../src/cli/commands/targets.js';
import { InputError, UsageError } from '../src/cli/errors.js';
import { buildCli, deeplyNested, expectCleanFailure, memoryIO, runCompiled, tempDir } from './cli-harness.js';

const PLAIN = 'examples/jobs/log-processor.yaml';
const CANARY = 'examples/jobs/log-processor-canary.yaml';
const ROLLING = 'examples/jobs/log-processor-rolling.yaml';
const FLEET = 'examples/fleets/production.yaml';

/** examples/fleets/production.yaml: 24 generated app servers alternate us-west (odd) / us-east (even). */
const APP_SERVERS = Array.from({ length: 24 }, (_, i) => `edge-app-${String(i + 1).padStart(3, '0')}`);
const PRODUCTION_APP_SERVERS = [...APP_SERVERS, 'gw-east-01', 'gw-west-01'];

let main = '';
const scratch = tempDir();
const file = scratch.file;
const targets = (...args: string[]) => runCompiled(main, ['targets', ...args]);
const targetIds = (...args: string[]): string[] => {
  const run = targets(...args, '--json');
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout).targets;
};

beforeAll(() => {
  main = buildCli('targets');
}, 180_000);
afterAll(() => scratch.cleanup());

describe('§3 §8 targets on the example fleet', () => {
  it('§8 targets --json prints {"targets": [ids]}: connected matching nodes in rollout order (ascending id)', () => {
    const run = targets(CANARY, '--fleet', FLEET, '--json');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ format: 1, job: 'production/log-processor', targets: PRODUCTION_APP_SERVERS, canaries: 5 });
    expect(targetIds(PLAIN, '--fleet', FLEET)).toEqual(PRODUCTION_APP_SERVERS);
    expect(JSON.parse(targets(PLAIN, '--fleet', FLEET, '--json').stdout).canaries).toBe(0);
  });

  it('§3 match_expressions narrow the selection: us-west only, no node under maintenance', () => {
    const west = APP_SERVERS.filter((_, i) => i % 2 === 0);
    expect(targetIds(ROLLING, '--fleet', FLEET)).toEqual([...west, 'gw-west-01']);
  });

  it('§5 §8 the human list is numbered, marks the canaries, shows labels, and names matching nodes left out as disconnected', () => {
    const run = targets(CANARY, '--fleet', FLEET);
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${CANARY} on ${FLEET}: 26 of 50 nodes targeted, in rollout order; the first 5 are the canaries`);
    expect(lines[1]).toBe('   1  edge-app-001  canary  env=production region=us-west role=app-server');
    expect(lines[5]).toMatch(/^ {3}5 {2}edge-app-005 {2}canary {2}env=/);
    expect(lines[6]).toMatch(/^ {3}6 {2}edge-app-006 {10}env=/);
    expect(lines[26]).toBe('  26  gw-west-01    ' + ' '.repeat(8) + 'env=production gpu=true region=us-west role=app-server');
    expect(lines[27]).toBe('2 nodes match but are disconnected, so not targeted: gw-east-02, gw-west-02');
    expect(run.stdout).not.toContain('\u001b[');
  });

  it('§9 --fleet also accepts a scenario file, using its fleet key', () => {
    const scenario = file('scenario.yaml', `seed: 3\njob: job.yaml\nfleet:\n${readFileSync(FLEET, 'utf8').replace(/^/gm, '  ')}`);
    expect(targetIds(CANARY, '--fleet', scenario)).toEqual(PRODUCTION_APP_SERVERS);
  });

  it('§8 the job and the fleet may each come from standard input', () => {
    const job = readFileSync(ROLLING);
    const fromStdin = runCompiled(main, ['targets', '-', '--fleet', FLEET, '--json'], { input: job });
    expect(fromStdin.status).toBe(0);
    expect(JSON.parse(fromStdin.stdout).targets).toHaveLength(13);
    const fleetFromStdin = runCompiled(main, ['targets', ROLLING, '--fleet', '-', '--json'], { input: readFileSync(FLEET) });
    expect(JSON.parse(fleetFromStdin.stdout).targets).toHaveLength(13);
  });

  it('§8 no targeted node is an answer, not an error', () => {
    const job = file('nobody.yaml', 'name: n\ntype: query\nselector: { match_labels: { role: toaster } }\n');
    const run = targets(job, '--fleet', FLEET);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${job} on ${FLEET}: 0 of 50 nodes targeted\n`);
  });

  it('§9 a generated fleet of 1,000,000 nodes', () => {
    const fleet = file('million.json', JSON.stringify({
      groups: [{ count: 1_000_000, prefix: 'edge-', labels: { role: 'app-server' }, spread: { env: ['production', 'staging'] } }],
    }));
    const ids = targetIds(PLAIN, '--fleet', fleet);
    expect(ids).toHaveLength(500_000);
    expect(ids.slice(0, 2)).toEqual(['edge-0000001', 'edge-0000003']);
  });
});

describe('§8 targets: bad input ends with exit 2 and a short message naming the file and field', () => {
  it('§2 §8 an invalid JobSpec reports its errors, and prints no targets', () => {
    const job = file('bad-job.yaml', 'name: x\ntype: pipline\nselector: { match_expressions: ["region in (a"] }\n');
    const run = targets(job, '--fleet', FLEET, '--json');
    expectCleanFailure(run, 2, `${job}: type: `, `${job}: selector.match_expressions[0]`);
    expect(run.stdout).toBe('');
  });

  it('§9 an invalid fleet reports every problem with its path', () => {
    const fleet = file('bad-fleet.yaml', [
      'nodes:',
      '  - { id: edge-001 }',
      '  - { id: edge-002, labels: { rack: 7 } }',
      '  - { id: edge-001 }',
      'groups:',
      '  - { count: 2, prefix: a- }',
      '  - { count: -5, prefix: b- }',
      'nodez: []',
    ].join('\n'));
    const run = targets(PLAIN, '--fleet', fleet);
    expectCleanFailure(
      run,
      2,
      `${fleet}: nodez: unknown field \`nodez\`; did you mean \`nodes\`?`,
      `${fleet}: nodes[1].labels.rack: expected a string, found 7`,
      `${fleet}: nodes[2].id: duplicate node id "edge-001" (also nodes[0])`,
      `${fleet}: groups[1].count: expected an integer >= 0, found -5`,
    );
  });

  it('§9 a scenario fleet reports paths under fleet.', () => {
    const scenario = file('bad-scenario.yaml', 'fleet:\n  groups:\n    - { count: 1, prefix: a }\n    - { count: -5, prefix: b }\n');
    expectCleanFailure(targets(PLAIN, '--fleet', scenario), 2, `${scenario}: fleet.groups[1].count: expected an integer >= 0, found -5`);
  });

  const badFiles: Array<[string, () => string, string]> = [
    ['a missing file', () => join(scratch.dir, 'missing.yaml'), 'no such file'],
    ['a directory', () => scratch.dir, 'is a directory'],
    ['an empty file', () => file('empty.yaml', ''), 'empty'],
    ['a binary file', () => file('binary.bin', new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x32])), 'not a text file'],
    ['malformed YAML', () => file('malformed.yaml', 'nodes:\n  - { id: a\n'), 'malformed.yaml:'],
    ['malformed JSON', () => file('malformed.json', '{"nodes": [}'), 'malformed.json'],
    ['a 20,000-level nested document', () => file('deep.json', deeplyNested(20_000)), 'nested too deeply'],
    ['a 30 MB file', () => file('huge.json', `{"nodes": [], "pad": "${'x'.repeat(30 * 1024 * 1024)}"}`), 'too large'],
  ];
  for (const [kind, make, says] of badFiles) {
    it(`§8 ${kind} as FLEET`, () => {
      const path = make();
      const run = targets(PLAIN, '--fleet', path);
      expectCleanFailure(run, 2, path, says);
      expect(run.stdout).toBe('');
    });
    it(`§8 ${kind} as FILE`, () => {
      const path = make();
      expectCleanFailure(targets(path, '--fleet', FLEET), 2, path, says);
    });
  }

  it('§8 the documented size limits hold: a fleet of 8 MiB as JSON, 4 MiB as YAML; one byte more is refused with the limit', () => {
    const MIB = 1024 * 1024;
    /** A one-node fleet padded with a label to exactly `bytes` bytes. */
    const padded = (bytes: number, yaml: boolean): string => {
      const [head, tail] = yaml ? ['nodes:\n  - { id: big, labels: { env: production, pad: "', '" } }\n'] : ['{"nodes": [{"id": "big", "labels": {"env": "production", "pad": "', '"}}]}'];
      return `${head}${'x'.repeat(bytes - head.length - tail.length)}${tail}`;
    };
    const job = file('all.yaml', 'name: all\ntype: query\nselector: { match_labels: { env: production } }\n');
    expect(targetIds(job, '--fleet', file('fleet-8mib.json', padded(8 * MIB, false)))).toEqual(['big']);
    expect(targetIds(job, '--fleet', file('fleet-4mib.yaml', padded(4 * MIB, true)))).toEqual(['big']);
    expectCleanFailure(targets(job, '--fleet', file('fleet-over.json', padded(8 * MIB + 1, false))), 2, 'too large for a fleet or scenario (8.0 MiB; the limit is 8 MiB)');
    expectCleanFailure(
      targets(job, '--fleet', file('fleet-over.yaml', padded(4 * MIB + 1, true))),
      2,
      'file is too large for YAML (4.0 MiB; YAML is read up to 4 MiB): write large fleets as generated groups, or as JSON',
    );
  });

  it('§8 a fleet file that is not a fleet (a list, a JobSpec)', () => {
    expectCleanFailure(targets(PLAIN, '--fleet', file('list.yaml', '- a\n- b\n')), 2, 'list.yaml: expected a fleet block');
    expectCleanFailure(targets(PLAIN, '--fleet', PLAIN), 2, `${PLAIN}: name: unknown field \`name\`; expected one of \`nodes\`, \`groups\``);
  });

  it('§8 missing --fleet, an unknown option, both inputs from standard input', () => {
    expectCleanFailure(targets(PLAIN), 2, "required option '--fleet <fleet>' not specified");
    expectCleanFailure(targets(PLAIN, '--fleet', FLEET, '--al'), 2, "unknown option '--al'");
    expectCleanFailure(targets(PLAIN, '--fleet'), 2, "option '--fleet <fleet>' argument missing");
    expectCleanFailure(targets('-', '--fleet', '-'), 2, 'cannot both be "-"');
  });
});

describe('§8 targets called directly', () => {
  it('§8 targetsCommand returns targets and the matching disconnected nodes as data', async () => {
    const { io } = memoryIO();
    const outcome = await targetsCommand({ file: CANARY, fleet: FLEET }, io);
    expect(outcome.fleetSize).toBe(50);
    expect(outcome.targets.map((node) => node.id)).toEqual(PRODUCTION_APP_SERVERS);
    expect(outcome.disconnected.map((node) => node.id)).toEqual(['gw-east-02', 'gw-west-02']);
    expect(outcome.canaries).toBe(5);
  });

  it('§8 targetsCommand throws InputError naming the fleet file for a bad fleet, UsageError for two stdin inputs', async () => {
    const { io } = memoryIO('{"groups": [{"count": "many", "prefix": "a"}]}');
    const error = await targetsCommand({ file: PLAIN, fleet: '-' }, io).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).source).toBe('<stdin>');
    expect((error as InputError).problems).toEqual([{ path: 'groups[0].count', message: 'expected an integer >= 0, found "many"' }]);
    await expect(targetsCommand({ file: '-', fleet: '-' }, io)).rejects.toBeInstanceOf(UsageError);
  });
});
