/**
 * Contract §8 (what the CLI prints) with §2/§9 input: text from a JobSpec or a
 * fleet is printed with control characters and bidirectional marks escaped,
 * so a fleet file cannot rewrite the operator's screen (docs/cli.md, "Input").
 * The commands run in memory through `runCli`, as the real bin does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/program.js';
import { safeJson, safeLines, safeText } from '../src/cli/print/safeText.js';
import { memoryIO, tempDir } from './cli-harness.js';

const ESC = '\u001b';
const RLO = '\u202e'; // right-to-left override
/** Characters that act on a terminal or reorder what it shows. */
const HOSTILE = [ESC, '\u0007', '\r', '\n', '\u007f', '\u009b', '\u061c', '\u200e', '\u200f', '\u202a', RLO, '\u2066', '\u2069', '\u2028', '\u2029', '\u200b', '\ufeff'];

/** No raw hostile character anywhere in the output (the ESC of our own colours is off: not a terminal). */
function expectInert(output: string): void {
  const lines = output.split('\n');
  for (const char of HOSTILE.filter((c) => c !== '\n')) {
    expect(output.includes(char), `raw U+${char.codePointAt(0)!.toString(16).padStart(4, '0')} in ${JSON.stringify(lines)}`).toBe(false);
  }
}

describe('§8 safeText escapes what a terminal would act on', () => {
  it.each(HOSTILE.map((char) => [`U+${char.codePointAt(0)!.toString(16).padStart(4, '0')}`, char]))('§8 %s is escaped as \\uXXXX', (_name, char) => {
    expect(safeText(`a${char}b`)).toBe(`a\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}b`);
  });

  it('§8 printable text is unchanged: accents, CJK, emoji, quotes, backslashes', () => {
    for (const text of ['edge-001', 'région=Île-de-France', '東京', '🚀 rocket', '"quoted" \\path']) expect(safeText(text)).toBe(text);
  });

  it('§8 characters beyond the BMP (tag characters) and lone surrogates are escaped too', () => {
    expect(safeText('flag\u{e0001}')).toBe('flag\\u{e0001}');
    expect(safeText('half\ud800')).toBe('half\\ud800');
  });

  it('§8 safeLines keeps line feeds and escapes the rest', () => {
    expect(safeLines(`one${ESC}[2J\ntwo${RLO}`)).toBe('one\\u001b[2J\ntwo\\u202e');
  });

  it('§8 safeJson only changes how characters are written: the parsed value is the same', () => {
    const value = { id: `n${ESC}[31m${RLO}x\u2028\u{e0041}`, c1: '\u009b' };
    const json = safeJson(JSON.stringify(value));
    expectInert(json);
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('§8 every printer of user text escapes it (validate, targets, problems, JSON)', () => {
  const scratch = tempDir();
  afterAll(() => scratch.cleanup());
  const evilId = `edge-${ESC}[2J${ESC}[31mowned${RLO}txt.exe`;
  const job = scratch.file(
    'job.json',
    JSON.stringify({
      name: `job${ESC}]0;title${'\u0007'}`,
      type: 'query',
      labels: { note: `a${RLO}b` },
      selector: { match_labels: { env: `prod${'\u200f'}` }, match_ids: [evilId, 'edge-2'] },
    }),
  );
  const fleet = scratch.file(
    'fleet.json',
    JSON.stringify({
      nodes: [
        { id: evilId, labels: { env: `prod${'\u200f'}`, [`k${ESC}`]: `v${'\u009b'}6n` } },
        { id: 'edge-2', labels: { env: `prod${'\u200f'}` }, connected: false },
      ],
    }),
  );

  async function run(...args: string[]) {
    const memory = memoryIO();
    const code = await runCli(args, memory.io);
    return { code, stdout: memory.stdout(), stderr: memory.stderr() };
  }

  it('§8 validate: the report and the JSON', async () => {
    const report = await run('validate', job);
    expect(report.code).toBe(0);
    expectInert(report.stdout + report.stderr);
    expect(report.stdout).toContain('job\\u001b]0;title\\u0007');
    const json = await run('validate', job, '--json');
    expectInert(json.stdout);
    expect(JSON.parse(json.stdout).spec.name).toBe(`job${ESC}]0;title\u0007`);
  });

  it('§8 targets: ids and labels in the list, the disconnected note and the JSON', async () => {
    const report = await run('targets', job, '--fleet', fleet);
    expect(report.code).toBe(0);
    expectInert(report.stdout + report.stderr);
    expect(report.stdout).toContain('edge-\\u001b[2J\\u001b[31mowned\\u202etxt.exe');
    expect(report.stdout).toContain('k\\u001b=v\\u009b6n');
    expect(report.stdout).toContain('disconnected, so not targeted: edge-2');
    const json = await run('targets', job, '--fleet', fleet, '--json');
    expectInert(json.stdout);
    expect(JSON.parse(json.stdout).targets).toEqual([evilId]);
  });

  it('§8 problems: a message quoting a hostile key or value, and a hostile file name', async () => {
    const bad = scratch.file(`bad${RLO}.json`, JSON.stringify({ name: 'a', type: 'query', [`x${ESC}[8m`]: 1, labels: { [RLO]: 5 } }));
    const invalid = await run('validate', bad);
    expect(invalid.code).toBe(2);
    expectInert(invalid.stderr);
    expect(invalid.stderr).toContain('bad\\u202e.json');
    const badFleet = scratch.file('fleet-bad.json', JSON.stringify({ nodes: [{ id: `n${ESC}`, labels: { a: 1 } }] }));
    const targets = await run('targets', job, '--fleet', badFleet);
    expect(targets.code).toBe(2);
    expectInert(targets.stderr);
  });

  it('§8 commander errors quoting an argument', async () => {
    const usage = await run('validate', job, `--${ESC}[2Jx`);
    expect(usage.code).toBe(2);
    expectInert(usage.stderr);
  });
});
