/**
 * The harness's kind of behavior (a scripted `Behavior`, src/sim/script.ts)
 * and the simulator's drawn one are played by the same agents. Where both say
 * the same thing (every node of a group healthy, failing or crashing, fixed
 * delays and error rates), a run gives the same trace byte for byte: the pair
 * is guarded by this equivalence property (§9, architecture: one simulated fleet).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Behavior } from '../src/sim/behavior.js';
import { runScenario } from '../src/sim/run.js';
import { loadScenario, type Scenario } from '../src/sim/scenario.js';
import { formatTrace } from '../src/sim/trace.js';
import { REPO } from './cli-harness.js';

const SHIPPED = ['bad-version-rollback', 'canary-production', 'flaky-region', 'rolling-production', 'superseded-mid-rollout', 'manual-promotion'];

async function shipped(name: string): Promise<Scenario> {
  const file = join(REPO, 'simulations', `${name}.yaml`);
  const load = await loadScenario(await readFile(file), file, async (path) => ({ ok: true, bytes: await readFile(path) }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  return load.scenario;
}

type Outcome = 'healthy' | 'failing' | 'crashing';

/** A drawn behavior that always does the same thing. */
function drawn(base: Partial<Behavior>, outcome: Outcome): Partial<Behavior> {
  const fixed = (r: { min: number; max: number } | undefined) => (r === undefined ? undefined : { min: r.min, max: r.min });
  return { ...base, start_delay: fixed(base.start_delay), error_rate: fixed(base.error_rate), fail_probability: outcome === 'failing' ? 1 : 0, crash_probability: outcome === 'crashing' ? 1 : 0 } as Partial<Behavior>;
}

/** The same, scripted. */
function scripted(base: Partial<Behavior>, outcome: Outcome): Partial<Behavior> {
  return {
    ...drawn(base, 'healthy'),
    script: { health: outcome === 'failing' ? [] : [{ from: 0, healthy: true }], crash: outcome === 'crashing' ? 'at_start' : 'never', silent: false, run_time: 0, completion: outcome === 'failing' ? 'failed' : 'succeeded', revert: 'confirms' },
  };
}

function variant(scenario: Scenario, outcomes: Outcome[], as: typeof drawn): Scenario {
  const { base, overrides } = scenario.behavior;
  return {
    ...scenario,
    behavior: {
      base: as(base, outcomes[0]!) as Behavior,
      overrides: overrides.map((o, i) => ({ ...o, behavior: as({ ...base, ...o.behavior }, outcomes[(i + 1) % outcomes.length]!) })),
    },
  };
}

const trace = (scenario: Scenario): string => formatTrace(runScenario(scenario, { trace: true }).trace!);

describe('one simulated fleet: scripted and drawn behaviors agree', () => {
  it('§9 a scripted behavior gives the trace of the drawn behavior that means the same, byte for byte', async () => {
    const scenarios = await Promise.all(SHIPPED.map(shipped));
    const outcome = fc.constantFrom<Outcome>('healthy', 'failing', 'crashing');
    fc.assert(
      fc.property(fc.nat(SHIPPED.length - 1), fc.array(outcome, { minLength: 1, maxLength: 4 }), (index, outcomes) => {
        const scenario = scenarios[index]!;
        expect(trace(variant(scenario, outcomes, scripted))).toBe(trace(variant(scenario, outcomes, drawn)));
      }),
      { numRuns: 30 },
    );
  });
});
