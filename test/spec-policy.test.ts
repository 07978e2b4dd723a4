/**
 * What `validate` (and the simulator's summary) say about a policy: how a node
 * is judged (contract §4), the canary group (§5) and the failed nodes each phase
 * tolerates (§6). `src/spec/policy.ts` restates the engine's formulas (the spec
 * room may not import the engine), so the first tests check them against the
 * engine's own rules on every small case.
 */
import { describe, expect, it } from 'vitest';
import { breaksFailureRule } from '../machines/rules/failure.js';
import { judgeMode } from '../machines/rules/nodeUpdate.js';
import { canarySize } from '../machines/rules/strategies.js';
import { canaryGroupSize, explainPolicy, toleratedFailures, tripsFailureRule, validateJobSpec, type JobSpec } from '../src/spec/index.js';

const PERCENTS = [0, 0.5, 1, 5, 10, 12.5, 20, 33.3, 33.34, 50, 99.9, 100];

function spec(raw: Record<string, unknown>): JobSpec {
  const result = validateJobSpec({ name: 'job', type: 'pipeline', ...raw });
  if (!result.valid) throw new Error(JSON.stringify(result.errors));
  return result.spec;
}

const canary = (deployment: Record<string, unknown>) =>
  spec({ deployment: { strategy: 'canary', health_check: { deadline: '5m' }, ...deployment } });

describe('§5 §6 the restated formulas agree with the engine on every small case', () => {
  it('§5 canaryGroupSize equals the engine canarySize for targeted 0..60, counts 0..8, each percent', () => {
    let cases = 0;
    for (let targeted = 0; targeted <= 60; targeted++) {
      for (let count = 0; count <= 8; count++) {
        for (const percent of PERCENTS) {
          expect(canaryGroupSize(targeted, count, percent)).toBe(canarySize(targeted, count, percent));
          cases++;
        }
      }
    }
    expect(cases).toBe(61 * 9 * PERCENTS.length);
  });

  it('§6 tripsFailureRule equals the engine breaksFailureRule, and toleratedFailures is the last count that does not trip', () => {
    let percentBinds = 0;
    let countBinds = 0;
    for (let group = 0; group <= 60; group++) {
      for (let maxNodes = 0; maxNodes <= 12; maxNodes++) {
        for (const percent of PERCENTS) {
          const limits = { maxFailedNodes: maxNodes, maxFailedNodesPercent: percent };
          for (let failed = 0; failed <= group + 1; failed++) {
            expect(tripsFailureRule(failed, group, maxNodes, percent)).toBe(breaksFailureRule(failed, group, limits));
          }
          const { tolerated, limitedBy } = toleratedFailures(group, maxNodes, percent);
          expect(breaksFailureRule(tolerated, group, limits)).toBe(false);
          if (limitedBy === 'never') expect(tolerated).toBe(group);
          else expect(breaksFailureRule(tolerated + 1, group, limits)).toBe(true);
          if (limitedBy === 'max_failed_nodes_percent') percentBinds++;
          if (limitedBy === 'max_failed_nodes') countBinds++;
        }
      }
    }
    // Both limits are exercised as the binding one.
    expect(percentBinds).toBeGreaterThan(1000);
    expect(countBinds).toBeGreaterThan(1000);
  });

  it('§4 judged_by is the engine judgeMode for every job type and strategy', () => {
    const names = { health: 'health_reports', started: 'execution_started', completion: 'completion' } as const;
    for (const type of ['pipeline', 'query', 'update', 'config'] as const) {
      for (const strategy of ['immediate', 'rolling', 'canary'] as const) {
        const deployment = strategy === 'immediate' ? { strategy } : { strategy, canary_count: 1, health_check: { deadline: '5m' } };
        expect(explainPolicy(spec({ type, deployment })).judged_by).toBe(names[judgeMode(type, strategy)]);
      }
    }
  });
});

describe('§4 how a node is judged, in words', () => {
  it('§4 a pipeline under rolling or canary: passing reports for min_healthy_time, within the deadline', () => {
    const { judging } = explainPolicy(spec({ deployment: { strategy: 'rolling', health_check: { deadline: '5m', min_healthy_time: '45s', max_error_rate: 0.02 } } }));
    expect(judging).toBe(
      'a node is stable after 45s of passing health reports (healthy, error rate <= 0.02) without a break; it fails if it is not stable within 5m of its start, or at once when its execution fails',
    );
    const instant = explainPolicy(spec({ deployment: { strategy: 'rolling', health_check: { deadline: '5m', min_healthy_time: '0s' } } }));
    expect(instant.judging).toMatch(/^a node is stable at its first passing health report/);
  });

  it.each(['query', 'update', 'config'])('§4 a %s job is judged on completion, never "after 30s of passing reports"', (type) => {
    const { judging, judged_by } = explainPolicy(
      spec({ type, deployment: { strategy: 'rolling', health_check: { deadline: '10m' } }, timeouts: { execution_timeout: 300 } }),
    );
    expect(judged_by).toBe('completion');
    expect(judging).not.toMatch(/30s|passing/);
    expect(judging).toBe(
      `a node is stable when its ${type} run completes successfully (health reports are not used for ${type} jobs); it fails on a failed completion, no completion within execution_timeout 300s or no completion within the health-check deadline 10m`,
    );
  });

  it('§4 under immediate: a pipeline is stable once started; a run-to-completion job still waits for completion, without a deadline', () => {
    expect(explainPolicy(spec({})).judging).toMatch(/stable as soon as its execution reports that it started/);
    expect(explainPolicy(spec({ type: 'update' })).judging).toBe(
      'a node is stable when its update run completes successfully (health reports are not used for update jobs); it fails on a failed completion',
    );
  });
});

describe('§5 §6 failures tolerated in each phase', () => {
  it('§6 the shipped canary example: max_failed_nodes 3, yet one failed canary of five trips the 10% rule (warned)', () => {
    const example = canary({ canary_count: 5, max_failed_nodes: 3, max_failed_nodes_percent: 10 });
    const onFleet = explainPolicy(example, 2400);
    expect(onFleet).toMatchObject({
      targeted: 2400,
      canaries: 5,
      phases: [
        { phase: 'canary', group: 5, tolerated_failures: 0, limited_by: 'max_failed_nodes_percent' },
        { phase: 'fleet', group: 2400, tolerated_failures: 3, limited_by: 'max_failed_nodes' },
      ],
      count_binds_from: null,
    });
    expect(onFleet.warnings).toEqual([
      {
        path: 'deployment.max_failed_nodes_percent',
        message:
          'in the canary group of 5, max_failed_nodes_percent 10 tolerates 0 failed nodes, fewer than max_failed_nodes 3: ' +
          'the first failed node fails the deployment and rolls it back (to tolerate 1, set max_failed_nodes_percent to at least 20; ' +
          'if no failure should be tolerated, say so with max_failed_nodes: 0)',
      },
    ]);
    // Without a fleet the canary_count group is known all the same; the whole-fleet phase is a formula.
    const alone = explainPolicy(example);
    expect(alone.phases).toEqual([
      { phase: 'canary', group: 5, tolerated_failures: 0, limited_by: 'max_failed_nodes_percent' },
      { phase: 'fleet', group: null, tolerated_failures: null, limited_by: null },
    ]);
    expect(alone.count_binds_from).toBe(30);
    expect(alone.warnings[0]?.message).toMatch(/^in the canary group of 5 \(once at least 5 nodes are targeted\)/);
  });

  it('§6 a percent stricter than the count across the whole fleet is warned too', () => {
    const { phases, warnings } = explainPolicy(spec({ deployment: { strategy: 'rolling', health_check: { deadline: '5m' } } }), 26);
    expect(phases).toEqual([{ phase: 'fleet', group: 26, tolerated_failures: 2, limited_by: 'max_failed_nodes_percent' }]);
    expect(warnings[0]?.message).toMatch(/^across the 26 targeted nodes, max_failed_nodes_percent 10 tolerates 2 failed nodes, fewer than max_failed_nodes 10: failed node number 3 fails/);
    expect(warnings[0]?.message).toContain('to tolerate 3, set max_failed_nodes_percent to at least 12');
  });

  it('§2 §6 an explicit max_failed_nodes: 0 is zero tolerance on purpose: no warning', () => {
    const { phases, warnings } = explainPolicy(canary({ canary_count: 5, max_failed_nodes: 0 }), 100);
    expect(phases.map((p) => p.tolerated_failures)).toEqual([0, 0]);
    expect(warnings).toEqual([]);
  });

  it('§5 canary_percent: the group follows the fleet; unknown without one', () => {
    const percent = canary({ canary_percent: 10, max_failed_nodes: 2, max_failed_nodes_percent: 40 });
    expect(explainPolicy(percent, 42).phases[0]).toEqual({ phase: 'canary', group: 5, tolerated_failures: 2, limited_by: 'both' });
    expect(explainPolicy(percent).canaries).toBeNull();
    expect(explainPolicy(percent).phases[0]).toEqual({ phase: 'canary', group: null, tolerated_failures: null, limited_by: null });
  });

  it('§6 a rule that cannot trip in a phase says so (every node may fail)', () => {
    const lax = canary({ canary_count: 2, max_failed_nodes: 10, max_failed_nodes_percent: 100 });
    expect(explainPolicy(lax, 8).phases).toEqual([
      { phase: 'canary', group: 2, tolerated_failures: 2, limited_by: 'never' },
      { phase: 'fleet', group: 8, tolerated_failures: 8, limited_by: 'never' },
    ]);
  });

  it('§6 a fleet the selector does not reach: nothing targeted, nothing tolerated, no warning', () => {
    expect(explainPolicy(canary({ canary_count: 5 }), 0)).toMatchObject({ targeted: 0, canaries: 0, warnings: [] });
  });
});
