import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../src/cli/program.js';
import { NODE_BUCKETS, type Aggregate } from '../src/sim/aggregate.js';
import type { SimResult } from '../src/sim/result.js';
import { memoryIO } from './cli-harness.js';

const health = { deadline: '2m', min_healthy_time: '20s' };

/** A scenario document (contract §9) with everything that ends a rollout early: failures, aborts, supersedes, joins, the horizon. */
const scenarioDocument = fc
  .record({
    nodes: fc.integer({ min: 1, max: 12 }),
    previous: fc.boolean(),
    type: fc.constantFrom('pipeline', 'pipeline', 'update'),
    strategy: fc.constantFrom('rolling', 'canary', 'immediate'),
    max_parallel: fc.integer({ min: 0, max: 3 }),
    max_failed_nodes: fc.integer({ min: 0, max: 3 }),
    no_auto_rollback: fc.boolean(),
    fail: fc.constantFrom(0, 0, 0.3, 0.8),
    crash: fc.constantFrom(0, 0.2),
    horizon: fc.constantFrom('5m', '30m', '2h'),
    events: fc.array(
      fc.record({
        at: fc.integer({ min: 1, max: 290 }),
        action: fc.constantFrom('abort', 'abort', 'pause', 'resume', 'promote', 'submit', 'join', 'disconnect', 'connect'),
      }),
      { maxLength: 3 },
    ),
  })
  .map((p) => {
    const job = (version: string) => ({
      name: 'api',
      type: p.type,
      labels: { version },
      deployment: {
        strategy: p.strategy,
        ...(p.strategy === 'immediate' ? {} : { max_parallel: p.max_parallel, health_check: health }),
        ...(p.strategy === 'canary' ? { canary_count: 1, auto_promote: true } : {}),
        max_failed_nodes: p.max_failed_nodes,
        no_auto_rollback: p.no_auto_rollback,
      },
    });
    const events = p.events.map((event, i) => {
      const at = `${event.at}s`;
      switch (event.action) {
        case 'submit':
          return { at, submit: job(`3-${i}`) };
        case 'join':
          return { at, join: [{ id: `late-${i}`, labels: { region: 'north' } }] };
        case 'disconnect':
        case 'connect':
          return { at, [event.action]: ['edge-001'] };
        default:
          return { at, [event.action]: true };
      }
    });
    return {
      horizon: p.horizon,
      fleet: { groups: [{ count: p.nodes, prefix: 'edge-', spread: { region: ['east', 'west'] } }] },
      ...(p.previous ? { previous: { ...job('1'), deployment: { strategy: 'immediate' } } } : {}),
      job: job('2'),
      behavior: { start_delay: { min: '1s', max: '40s' }, fail_probability: p.fail, crash_probability: p.crash },
      events,
    };
  });

type Counts = Pick<SimResult, 'targeted' | 'exposed' | 'untouched' | 'stable' | 'failed' | 'stopped' | 'removed' | 'updating'>;

function addsUp(c: Counts): boolean {
  return c.stable + c.failed + c.stopped + c.removed + c.updating + c.untouched === c.targeted && c.exposed === c.targeted - c.untouched;
}

async function cli(args: string[], document: object): Promise<{ code: number; stdout: string }> {
  const memory = memoryIO(stringify(document));
  const code = await runCli(['simulate', '-', '--no-progress', ...args], memory.io);
  return { code, stdout: memory.stdout() };
}

describe('§8 v1.1 property: for random scenarios the counts add up in every output', () => {
  it('§8 single-run JSON, the summary and the --runs aggregate never leave a node unaccounted', async () => {
    const outcomes: string[] = [];
    await fc.assert(
      fc.asyncProperty(scenarioDocument, async (document) => {
        const json = await cli(['--json', '--by', 'region'], document);
        expect(json.code).toBe(0);
        const result = JSON.parse(json.stdout) as SimResult;
        outcomes.push(result.reason === null ? result.outcome : `${result.outcome} (${result.reason})`);
        expect(addsUp(result)).toBe(true);
        expect(Object.values(result.failed_by_reason).reduce((a, b) => a + b, 0)).toBe(result.failed);
        expect(result.by_label!.values.reduce((sum, group) => sum + group.exposed, 0)).toBe(result.exposed);
        expect(result.reverted + result.revert_failed).toBeLessThanOrEqual(result.exposed);
        if (result.reason === 'aborted') expect(result.time_to_detect_s).toBeNull();

        // The summary prints the same partition.
        const summary = await cli([], document);
        const line = /nodes +(\d+) targeted = (\d+) stable \+ (\d+) failed \+ (\d+) stopped \+ (\d+) removed \+ (\d+) updating \+ (\d+) untouched \((\d+) exposed\)/.exec(summary.stdout);
        expect(line, summary.stdout).not.toBeNull();
        const [targeted, stable, failed, stopped, removed, updating, untouched, exposed] = line!.slice(1).map(Number) as number[];
        expect({ targeted, stable, failed, stopped, removed, updating, untouched, exposed }).toEqual({
          targeted: result.targeted,
          stable: result.stable,
          failed: result.failed,
          stopped: result.stopped,
          removed: result.removed,
          updating: result.updating,
          untouched: result.untouched,
          exposed: result.exposed,
        });

        // The aggregate's totals add up like a run's.
        const runs = await cli(['--runs', '3', '--json'], document);
        const aggregate = JSON.parse(runs.stdout) as Aggregate;
        const totals = NODE_BUCKETS.reduce((sum, bucket) => sum + aggregate.nodes[bucket].total, 0);
        expect(totals).toBe(aggregate.nodes.targeted.total);
        expect(aggregate.nodes.exposed.total).toBe(aggregate.nodes.targeted.total - aggregate.nodes.untouched.total);
        expect(Object.values(aggregate.failed_by_reason).reduce((a, b) => a + b, 0)).toBe(aggregate.nodes.failed.total);
        expect(Object.values(aggregate.outcomes).reduce((a, b) => a + b, 0)).toBe(3);
      }),
      { numRuns: 120, seed: 1212 },
    );
    const seen = new Map<string, number>();
    for (const outcome of outcomes) seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    // The outcomes the property's runs reached, printed as fc.statistics would, and asserted: the interesting ends are reached.
    for (const [outcome, n] of [...seen].sort((a, b) => b[1] - a[1])) console.log(`outcomes ${outcome.padEnd(28)} ${((100 * n) / outcomes.length).toFixed(1)}%`);
    const some = (pattern: RegExp) => outcomes.filter((o) => pattern.test(o)).length;
    expect(some(/^failed/)).toBeGreaterThan(0);
    expect(some(/^rolled_back/)).toBeGreaterThan(0);
    expect(some(/\(aborted\)/)).toBeGreaterThan(0);
    expect(some(/\(superseded\)/)).toBeGreaterThan(0);
    expect(some(/^completed/)).toBeGreaterThan(0);
  }, 300_000);
});
