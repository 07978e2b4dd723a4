import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli/program.js';
import { progressReporter, PROGRESS_INTERVAL_MS } from '../src/cli/print/progress.js';
import { fleetTooLarge, machineCapacity } from '../src/sim/capacity.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario } from '../src/sim/scenario.js';
import { formatTrace } from '../src/sim/trace.js';
import { memoryIO, tempDir } from './cli-harness.js';

const JOB = { name: 'api', type: 'pipeline', deployment: { strategy: 'rolling', max_parallel: 2, health_check: { deadline: '2m', min_healthy_time: '30s' } } };
const SCENARIO = { fleet: { groups: [{ count: 5, prefix: 'edge-' }] }, job: 'job.yaml' };

function files() {
  const temp = tempDir();
  const scenario = temp.file('sim.yaml', stringify(SCENARIO));
  const job = temp.file('job.yaml', stringify(JOB));
  return { ...temp, scenario, job };
}

describe('§8 simulate --trace never overwrites an input; "-" is standard output', () => {
  it('§8 a trace path that is the scenario or a JobSpec it names (by any path) is refused with exit 2, the file untouched', async () => {
    const { dir, scenario, job, cleanup } = files();
    try {
      for (const [trace, what] of [
        ['sim.yaml', 'the scenario'],
        ['./sim.yaml', 'the scenario'],
        ['job.yaml', 'a JobSpec it names'],
        [join(dir, 'job.yaml'), 'a JobSpec it names'],
      ] as const) {
        const memory = memoryIO('', {}, dir);
        expect(await runCli(['simulate', 'sim.yaml', '--trace', trace], memory.io)).toBe(2);
        expect(memory.stderr()).toBe(`fleet-rollout: --trace ${trace}: is an input of this run (${what}); write the trace to another file\n`);
        expect(memory.stdout()).toBe('');
      }
      expect(readFileSync(scenario, 'utf8')).toBe(stringify(SCENARIO));
      expect(readFileSync(job, 'utf8')).toBe(stringify(JOB));
    } finally {
      cleanup();
    }
  });

  it('§8 --trace - writes the trace alone to standard output; the summary (or --json) goes to standard error', async () => {
    const { dir, cleanup } = files();
    try {
      const load = await loadScenario(readFileSync(join(dir, 'sim.yaml')), join(dir, 'sim.yaml'), async (file) => ({ ok: true, bytes: readFileSync(file) }));
      if (!load.ok) throw new Error('scenario');
      const expected = formatTrace(runScenario(load.scenario, { trace: true }).trace!);
      const memory = memoryIO('', {}, dir);
      expect(await runCli(['simulate', 'sim.yaml', '--trace', '-', '--json'], memory.io)).toBe(0);
      expect(memory.stdout()).toBe(expected);
      expect(JSON.parse(memory.stderr())).toMatchObject({ format: 1, outcome: 'completed', stable: 5 });

      const text = memoryIO('', {}, dir);
      expect(await runCli(['simulate', 'sim.yaml', '--trace', '-'], text.io)).toBe(0);
      expect(text.stdout()).toBe(expected);
      expect(text.stderr()).toContain('outcome   completed');
    } finally {
      cleanup();
    }
  });
});

describe('§8 simulate refuses what the machine cannot do, before it starts (exit 2, the limit said)', () => {
  it('§8 --runs beyond 1,000,000 (4294967296, 1000000000) is bad input naming the maximum', async () => {
    for (const runs of ['4294967296', '1000000000', '1000001']) {
      const memory = memoryIO(stringify({ fleet: SCENARIO.fleet, job: JOB }));
      expect(await runCli(['simulate', '-', '--runs', runs], memory.io)).toBe(2);
      expect(memory.stderr()).toBe(`fleet-rollout: --runs ${runs}: at most 1,000,000 runs in one series (split larger studies by --seed)\n`);
    }
  });

  it('§8 10,000,000 nodes: refused from the node count, before a node is generated, with the measured limit', async () => {
    const memory = memoryIO(stringify({ fleet: { groups: [{ count: 10_000_000, prefix: 'edge-' }] }, job: JOB }));
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    expect(await runCli(['simulate', '-', '--json'], memory.io)).toBe(2);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 2 ** 20);
    const { maxNodes } = machineCapacity();
    expect(memory.stderr()).toContain(`<stdin>: fleet.groups: the fleet has 10,000,000 nodes; at most ${maxNodes.toLocaleString('en-US')} fit in this process (about 1,500 B of heap a node`);
    expect(memory.stdout()).toBe('');
  });

  it('§8 the limit follows the heap: a fleet at the limit fits, one node more does not; each submit costs more a node', () => {
    const { maxNodes } = machineCapacity();
    expect(maxNodes).toBeGreaterThan(1_000_000);
    expect(fleetTooLarge(maxNodes)).toBeNull();
    expect(fleetTooLarge(maxNodes + 1)).toMatch(/at most/);
    expect(machineCapacity(3).maxNodes).toBeLessThan(maxNodes);
  });
});

describe('§8 progress on long runs, on standard error, also off a terminal', () => {
  function reporter(isTTY: boolean, enabled = true) {
    let now = 0;
    let text = '';
    const sink = progressReporter({ write: (t) => void (text += t), isTTY }, enabled, () => now);
    return { sink, advance: (ms: number) => void (now += ms), text: () => text };
  }

  it('§8 off a terminal: nothing for a short run, then a line every few seconds (runs done, time left)', () => {
    const { sink, advance, text } = reporter(false);
    sink.runs(1, 10);
    expect(text()).toBe('');
    advance(PROGRESS_INTERVAL_MS);
    sink.runs(2, 10);
    expect(text()).toBe('simulate: 2/10 runs (20.0%), 5s elapsed, about 20s left\n');
    advance(1000);
    sink.runs(3, 10);
    expect(text().split('\n')).toHaveLength(2);
  });

  it('§8 a single long run reports nodes resolved and virtual time; --no-progress is silent', () => {
    const { sink, advance, text } = reporter(false);
    advance(PROGRESS_INTERVAL_MS);
    sink.run({ now: 3_600_000, horizon: 86_400_000, targeted: 1_000_000, resolved: 640_000 });
    expect(text()).toBe('simulate: 640,000/1,000,000 nodes resolved, virtual time 1h (horizon 24h), 5s elapsed\n');
    const silent = reporter(false, false);
    silent.advance(60_000);
    silent.sink.run({ now: 1, horizon: 2, targeted: 1, resolved: 0 });
    silent.sink.runs(1, 2);
    expect(silent.text()).toBe('');
  });

  it('§8 a run reports its progress through runScenario every 65,536 timers and at the end', async () => {
    const load = await loadScenario(stringify({ fleet: { groups: [{ count: 30_000, prefix: 'n-' }] }, job: { ...JOB, deployment: { ...JOB.deployment, max_parallel: 300 } } }), 'big.yaml', async () => ({ ok: false, message: '' }));
    if (!load.ok) throw new Error('scenario');
    const seen: number[] = [];
    runScenario(load.scenario, { onProgress: (p) => seen.push(p.resolved) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(30_000);
  });
});
