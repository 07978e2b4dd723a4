/**
 * The generators the property suites stand on: a JobSpec generated "valid by
 * construction" must pass the real validator, or every property built on it
 * tests less than it claims.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDurationMs } from '../src/spec/duration.js';
import { validateJobSpec } from '../src/spec/validate.js';
import { eventsArb, fleetArb, jobSpecArb, rolloutScenarioArb } from '../src/testing/arbitraries.js';

const runs = Number(process.env.FLEET_ROLLOUT_PROPERTY_RUNS ?? 500);

describe('arbitraries', () => {
  it('§2 every generated JobSpec passes validation, for every strategy and job type', () => {
    fc.assert(
      fc.property(jobSpecArb(), (input) => {
        const result = validateJobSpec(input);
        if (!result.valid) throw new Error(`generated an invalid spec ${JSON.stringify(input)}: ${JSON.stringify(result.errors)}`);
        const { deployment } = result.spec;
        if (deployment.health_check !== undefined) {
          expect(parseDurationMs(deployment.health_check.min_healthy_time)).toBeLessThan(parseDurationMs(deployment.health_check.deadline));
        }
      }),
      { numRuns: runs },
    );
  });

  it('§2 generated specs cover every strategy, job type, and the explicit-zero limits', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(jobSpecArb(), (input) => {
        const result = validateJobSpec(input);
        if (!result.valid) return;
        const { type, deployment } = result.spec;
        seen.add(`strategy:${deployment.strategy}`);
        seen.add(`type:${type}`);
        if (deployment.max_failed_nodes === 0) seen.add('max_failed_nodes=0');
        if (deployment.max_parallel === 0) seen.add('max_parallel=0');
        if (deployment.health_check?.max_error_rate === 0) seen.add('max_error_rate=0');
      }),
      { numRuns: 400, seed: 42 },
    );
    expect([...seen].sort()).toEqual(
      ['max_error_rate=0', 'max_failed_nodes=0', 'max_parallel=0', 'strategy:canary', 'strategy:immediate', 'strategy:rolling', 'type:config', 'type:pipeline', 'type:query', 'type:update'].sort(),
    );
  });

  it('fleets have unique ids in rollout order', () => {
    fc.assert(
      fc.property(fleetArb({ maxNodes: 12 }), (nodes) => {
        const ids = nodes.map((node) => node.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual(ids);
      }),
    );
  });

  it('event schedules are in time order and name nodes of the fleet', () => {
    fc.assert(
      fc.property(eventsArb(['n-00', 'n-01']), (events) => {
        for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
        for (const event of events) if (event.do === 'disconnect' || event.do === 'connect') expect(['n-00', 'n-01']).toContain(event.node);
      }),
    );
  });

  it('scenarios give a behavior only to nodes of their fleet', () => {
    fc.assert(
      fc.property(rolloutScenarioArb(), (scenario) => {
        const ids = new Set(scenario.nodes.map((node) => node.id));
        for (const id of Object.keys(scenario.behaviors)) expect(ids.has(id)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
