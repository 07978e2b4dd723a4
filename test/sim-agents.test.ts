import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../src/engine/clocks/virtualClock.js';
import type { ExecutionRequest } from '../src/engine/ports.js';
import type { FleetNode } from '../src/selector/types.js';
import { SimulatedAgents } from '../src/sim/agents.js';
import { compileBehavior, DEFAULT_BEHAVIOR, type Behavior, type BehaviorModel } from '../src/sim/behavior.js';
import { nodeStreamKey, uniform } from '../src/sim/prng.js';
import type { JobSpec } from '../src/spec/types.js';

const node = (id: string, labels: Record<string, string> = {}, connected = true): FleetNode => ({ id, labels, connected });

function specOf(type: JobSpec['type']): JobSpec {
  return { type } as JobSpec; // agents read only the job type
}

function request(id: string, version: number, options: { purpose?: 'update' | 'revert'; type?: JobSpec['type']; attempt?: number } = {}): ExecutionRequest {
  return {
    executionId: `d/${id}/${version}/${options.attempt ?? 0}`,
    deployment: 'd',
    job: 'default/job',
    version,
    node: id,
    purpose: options.purpose ?? 'update',
    spec: specOf(options.type ?? 'pipeline'),
  };
}

/** Agents on a virtual clock with a sink that records every report as `t node kind detail`. */
function harness(behavior: Partial<Behavior> = {}, nodes: FleetNode[] = [node('n1')], seed = 1, overrides: BehaviorModel['overrides'] = []) {
  const clock = new VirtualClock(0);
  const agents = new SimulatedAgents(clock, seed, compileBehavior({ base: { ...DEFAULT_BEHAVIOR, ...behavior }, overrides }));
  const log: string[] = [];
  agents.attach({
    reportExecution: (r) => log.push(`${clock.now()} ${r.node} v${r.version} ${r.status}`),
    reportHealth: (r) => log.push(`${clock.now()} ${r.node} v${r.version} ${r.healthy ? 'healthy' : 'unhealthy'} ${r.error_rate}`),
  });
  for (const n of nodes) agents.addNode(n);
  return { clock, agents, log };
}

describe('§9 seeded randomness (prng.ts)', () => {
  it('§9 draws lie in [0, 1) and depend only on seed, node id and draw number', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string(), fc.nat({ max: 1_000_000 }), (seed, id, n) => {
        const u = uniform(nodeStreamKey(seed, id), n);
        return u >= 0 && u < 1 && u === uniform(nodeStreamKey(seed, id), n);
      }),
    );
  });

  it('§9 draws are spread evenly (mean and deciles of 100,000 draws over 1,000 nodes)', () => {
    const deciles = new Array<number>(10).fill(0);
    let sum = 0;
    for (let i = 0; i < 1000; i += 1) {
      const key = nodeStreamKey(7, `edge-${i}`);
      for (let n = 0; n < 100; n += 1) {
        const u = uniform(key, n);
        sum += u;
        deciles[Math.floor(u * 10)]! += 1;
      }
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
    for (const count of deciles) expect(Math.abs(count - 10_000)).toBeLessThan(400);
  });

  it('§9 different seeds give different streams for the same node', () => {
    expect(uniform(nodeStreamKey(1, 'edge-001'), 0)).not.toBe(uniform(nodeStreamKey(2, 'edge-001'), 0));
    expect(uniform(nodeStreamKey(1, 'edge-001'), 0)).not.toBe(uniform(nodeStreamKey(1, 'edge-002'), 0));
    expect(uniform(nodeStreamKey(2 ** 40, 'a'), 0)).not.toBe(uniform(nodeStreamKey(2 ** 41, 'a'), 0));
  });
});

describe('§9 behavior model (behavior.ts)', () => {
  it('§9 overrides apply in file order, field by field: the last match wins', () => {
    const behaviorOf = compileBehavior({
      base: DEFAULT_BEHAVIOR,
      overrides: [
        { selector: { match_labels: { region: 'east' } }, behavior: { fail_probability: 0.5, crash_probability: 0.1 } },
        { selector: { match_expressions: ['tier in (gold)'] }, behavior: { fail_probability: 0.9 } },
      ],
    });
    expect(behaviorOf(node('a', { region: 'east', tier: 'gold' }))).toMatchObject({ fail_probability: 0.9, crash_probability: 0.1 });
    expect(behaviorOf(node('b', { region: 'east' }))).toMatchObject({ fail_probability: 0.5, crash_probability: 0.1 });
    expect(behaviorOf(node('c', { tier: 'gold' }))).toMatchObject({ fail_probability: 0.9, crash_probability: 0 });
    expect(behaviorOf(node('d'))).toBe(behaviorOf(node('e')));
  });

  it('§9 overrides match on labels whatever the connection', () => {
    const behaviorOf = compileBehavior({ base: DEFAULT_BEHAVIOR, overrides: [{ selector: { match_ids: ['x'] }, behavior: { fail_probability: 1 } }] });
    expect(behaviorOf(node('x', {}, false)).fail_probability).toBe(1);
  });
});

describe('§4 simulated agents answer the executor port on the virtual clock', () => {
  it('§4 a pipeline reports started and health after its start delay, then every report interval', () => {
    const { clock, agents, log } = harness({ start_delay: { min: 5000, max: 5000 }, report_interval: 10_000 });
    agents.start(request('n1', 2));
    clock.runUntilIdle(26_000);
    expect(log).toEqual(['5000 n1 v2 started', '5000 n1 v2 healthy 0', '15000 n1 v2 healthy 0', '25000 n1 v2 healthy 0']);
  });

  it('§4 reports stop once the engine judged the node, and on stop', () => {
    const { clock, agents, log } = harness({ start_delay: { min: 0, max: 0 } }, [node('n1'), node('n2')]);
    agents.start(request('n1', 2));
    agents.start(request('n2', 2));
    clock.runUntilIdle(10_000);
    agents.judged('n1', 2);
    agents.stop({ executionId: 'd/n2/2/0', node: 'n2' });
    clock.runUntilIdle();
    expect(log).toEqual(['0 n1 v2 started', '0 n1 v2 healthy 0', '0 n2 v2 started', '0 n2 v2 healthy 0', '10000 n1 v2 healthy 0', '10000 n2 v2 healthy 0']);
    expect(clock.pending).toBe(0);
  });

  it('§4 judging another version changes nothing', () => {
    const { clock, agents, log } = harness({ start_delay: { min: 0, max: 0 } });
    agents.start(request('n1', 2));
    agents.judged('n1', 1);
    clock.runUntilIdle(10_000);
    expect(log).toHaveLength(3);
  });

  it('§9 a failing node reports unhealthy; a crashing one reports failed instead of started', () => {
    const failing = harness({ fail_probability: 1, start_delay: { min: 0, max: 0 } });
    failing.agents.start(request('n1', 2));
    failing.clock.runUntilIdle(0);
    expect(failing.log).toEqual(['0 n1 v2 started', '0 n1 v2 unhealthy 0']);

    const crashing = harness({ crash_probability: 1, start_delay: { min: 3000, max: 3000 } });
    crashing.agents.start(request('n1', 2));
    crashing.clock.runUntilIdle();
    expect(crashing.log).toEqual(['3000 n1 v2 failed']);
  });

  it('§4 a run-to-completion job reports started then succeeded (failed for a failing node)', () => {
    const ok = harness({ start_delay: { min: 2000, max: 2000 } });
    ok.agents.start(request('n1', 2, { type: 'query' }));
    ok.clock.runUntilIdle();
    expect(ok.log).toEqual(['2000 n1 v2 started', '2000 n1 v2 succeeded']);

    const bad = harness({ fail_probability: 1, start_delay: { min: 2000, max: 2000 } });
    bad.agents.start(request('n1', 2, { type: 'config' }));
    bad.clock.runUntilIdle();
    expect(bad.log).toEqual(['2000 n1 v2 started', '2000 n1 v2 failed']);
  });

  it('§6 a revert reports the old version started after a start delay, whatever the new version does', () => {
    const { clock, agents, log } = harness({ fail_probability: 1, crash_probability: 1, start_delay: { min: 4000, max: 4000 } });
    agents.start(request('n1', 1, { purpose: 'revert' }));
    clock.runUntilIdle();
    expect(log).toEqual(['4000 n1 v1 started']);
  });

  it('§1 a repeated start of the same execution is idempotent; a new one replaces it', () => {
    const { clock, agents, log } = harness({ start_delay: { min: 1000, max: 1000 }, report_interval: 60_000 });
    agents.start(request('n1', 2));
    clock.advanceTo(500);
    agents.start(request('n1', 2));
    clock.runUntilIdle(1000);
    agents.start(request('n1', 3));
    clock.runUntilIdle(2000);
    expect(log).toEqual(['1000 n1 v2 started', '1000 n1 v2 healthy 0', '2000 n1 v3 started', '2000 n1 v3 healthy 0']);
  });

  it('§4 a disconnected node sends nothing; the execution reports it owes arrive when it reconnects', () => {
    const { clock, agents, log } = harness({ start_delay: { min: 1000, max: 1000 }, report_interval: 10_000 });
    agents.setConnected('n1', false);
    agents.start(request('n1', 2));
    clock.runUntilIdle(20_000);
    expect(log).toEqual([]);
    clock.advanceTo(25_000);
    agents.setConnected('n1', true);
    clock.runUntilIdle(31_000);
    expect(log).toEqual(['25000 n1 v2 started', '31000 n1 v2 healthy 0']);
  });

  it("§9 a node's fate depends on the seed and its id, not on the order nodes start in", () => {
    const ids = Array.from({ length: 200 }, (_, i) => `edge-${String(i).padStart(3, '0')}`);
    const fates = (order: string[]) => {
      const { clock, agents, log } = harness({ fail_probability: 0.3, crash_probability: 0.1, start_delay: { min: 1000, max: 20_000 } }, ids.map((id) => node(id)), 42);
      for (const id of order) agents.start(request(id, 2));
      clock.runUntilIdle(20_000);
      return [...log].sort();
    };
    const forward = fates(ids);
    expect(fates([...ids].reverse())).toEqual(forward);
    const failing = forward.filter((line) => line.endsWith('unhealthy 0')).length;
    const crashed = forward.filter((line) => line.endsWith(' failed')).length;
    expect(failing).toBeGreaterThan(30);
    expect(crashed).toBeGreaterThan(5);
  });

  it('§9 instant mode (previous put in place) starts every node at once and healthy', () => {
    const { clock, agents, log } = harness({ fail_probability: 1, start_delay: { min: 9000, max: 9000 } });
    agents.instant = true;
    agents.start(request('n1', 1));
    clock.runUntilIdle(0);
    expect(log).toEqual(['0 n1 v1 started', '0 n1 v1 healthy 0']);
  });
});
