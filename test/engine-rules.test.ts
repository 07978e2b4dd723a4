import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { breaksFailureRule, failureGroup } from '../machines/rules/failure.js';
import { canarySize, windowCapacity } from '../machines/rules/strategies.js';
import { isPassing, judgeMode, trackStreak } from '../machines/rules/nodeUpdate.js';
import { rolloutPolicy, DEFAULT_REVERT_DEADLINE_MS } from '../machines/policy.js';
import { jobSpec } from './support/engineFixture.js';

const limits = (maxFailedNodes: number, maxFailedNodesPercent: number) => ({ maxFailedNodes, maxFailedNodesPercent });

describe('§6 failure rule', () => {
  it('§6 fails when failed > max_failed_nodes', () => {
    expect(breaksFailureRule(2, 1000, limits(2, 100))).toBe(false);
    expect(breaksFailureRule(3, 1000, limits(2, 100))).toBe(true);
  });

  it('§6 explicit max_failed_nodes 0 means zero tolerance', () => {
    expect(breaksFailureRule(0, 10, limits(0, 100))).toBe(false);
    expect(breaksFailureRule(1, 10, limits(0, 100))).toBe(true);
  });

  it('§6 fails when 100 * failed / group > max_failed_nodes_percent (strictly greater)', () => {
    expect(breaksFailureRule(1, 10, limits(100, 10))).toBe(false); // 10% is not > 10%
    expect(breaksFailureRule(2, 10, limits(100, 10))).toBe(true);
    expect(breaksFailureRule(1, 5, limits(100, 10))).toBe(true); // 20% of a small canary group
  });

  it('§6 group is the canary group before promotion, all targeted after', () => {
    expect(failureGroup(true, 5, 100)).toBe(5);
    expect(failureGroup(false, 5, 100)).toBe(100);
  });

  it('§6 the rule is monotone: more failures never un-break it', () => {
    fc.assert(
      fc.property(fc.nat(200), fc.integer({ min: 1, max: 500 }), fc.nat(50), fc.double({ min: 0, max: 100, noNaN: true }), (failed, group, max, pct) =>
        !breaksFailureRule(failed, group, limits(max, pct)) || breaksFailureRule(failed + 1, group, limits(max, pct)),
      ),
    );
  });
});

describe('§5 canary group size', () => {
  it('§5 canary_count wins when > 0, clamped to targeted', () => {
    expect(canarySize(10, 3, 50)).toBe(3);
    expect(canarySize(2, 5, 0)).toBe(2);
  });

  it('§5 else ceil(targeted * canary_percent / 100)', () => {
    expect(canarySize(10, 0, 25)).toBe(3);
    expect(canarySize(100, 0, 10)).toBe(10);
  });

  it('§5 clamped to at least 1 and at most targeted', () => {
    expect(canarySize(10, 0, 0)).toBe(1);
    expect(canarySize(10, 0, 100)).toBe(10);
    expect(canarySize(0, 3, 10)).toBe(0);
  });

  it('§5 always within 1..targeted for a non-empty target set', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.nat(20_000), fc.integer({ min: 0, max: 100 }), (targeted, count, pct) => {
        const c = canarySize(targeted, count, pct);
        return c >= 1 && c <= targeted;
      }),
    );
  });
});

describe('§5 rolling window', () => {
  it('§5 at most max_parallel updating; 0 means no bound', () => {
    expect(windowCapacity(3, 1)).toBe(2);
    expect(windowCapacity(3, 3)).toBe(0);
    expect(windowCapacity(3, 5)).toBe(0);
    expect(windowCapacity(0, 1_000_000)).toBe(Infinity);
  });

  it('§5 immediate ignores max_parallel', () => {
    expect(rolloutPolicy(jobSpec({ deployment: { strategy: 'immediate', max_parallel: 2 } })).windowSize).toBe(0);
  });
});

describe('§4 passing report', () => {
  it('§4 healthy with no error_rate is passing', () => {
    expect(isPassing({ node: 'a', version: 1, healthy: true }, 0.1)).toBe(true);
  });
  it('§4 error_rate equal to max_error_rate still passes; above it does not', () => {
    expect(isPassing({ node: 'a', version: 1, healthy: true, error_rate: 0.1 }, 0.1)).toBe(true);
    expect(isPassing({ node: 'a', version: 1, healthy: true, error_rate: 0.11 }, 0.1)).toBe(false);
  });
  it('§4 max_error_rate 0 tolerates no errors', () => {
    expect(isPassing({ node: 'a', version: 1, healthy: true, error_rate: 0 }, 0)).toBe(true);
    expect(isPassing({ node: 'a', version: 1, healthy: true, error_rate: 0.001 }, 0)).toBe(false);
  });
  it('§4 unhealthy is never passing', () => {
    expect(isPassing({ node: 'a', version: 1, healthy: false, error_rate: 0 }, 1)).toBe(false);
  });
});

describe('§4 how nodes are judged', () => {
  it('§4 pipelines under rolling and canary are judged by health', () => {
    expect(judgeMode('pipeline', 'rolling')).toBe('health');
    expect(judgeMode('pipeline', 'canary')).toBe('health');
  });
  it('§4 pipelines under immediate are stable once started', () => {
    expect(judgeMode('pipeline', 'immediate')).toBe('started');
  });
  it('§4 query, update and config run to completion under every strategy', () => {
    for (const type of ['query', 'update', 'config'] as const) {
      for (const strategy of ['immediate', 'rolling', 'canary'] as const) expect(judgeMode(type, strategy)).toBe('completion');
    }
  });
  it('§4 execution_timeout applies to run-to-completion jobs only; immediate has no health deadline', () => {
    expect(rolloutPolicy(jobSpec({ type: 'query', timeouts: { execution_timeout: 7 } })).executionTimeoutMs).toBe(7000);
    expect(rolloutPolicy(jobSpec({ timeouts: { execution_timeout: 7 } })).executionTimeoutMs).toBe(0);
    expect(rolloutPolicy(jobSpec({ deployment: { strategy: 'immediate' } })).deadlineMs).toBe(0);
  });
  it('§6 a revert without a health check gets the documented default deadline', () => {
    expect(rolloutPolicy(jobSpec({ deployment: { strategy: 'immediate', health_check: undefined } })).revertDeadlineMs).toBe(DEFAULT_REVERT_DEADLINE_MS);
  });
});

describe('§4 health tracker (passing streaks)', () => {
  it('§4 the first passing report starts a streak: a timer for min_healthy_time', () => {
    expect(trackStreak(false, true, 30_000)).toBe('arm');
  });
  it('§4 further passing reports continue the streak without a new timer', () => {
    expect(trackStreak(true, true, 30_000)).toBe('none');
  });
  it('§4 any non-passing report ends the streak; the next passing one starts a new one', () => {
    expect(trackStreak(true, false, 30_000)).toBe('broken');
    expect(trackStreak(false, true, 30_000)).toBe('arm');
  });
  it('§4 a non-passing report without a streak changes nothing', () => {
    expect(trackStreak(false, false, 30_000)).toBe('none');
  });
  it('§4 min_healthy_time 0: the first passing report makes the node stable', () => {
    expect(trackStreak(false, true, 0)).toBe('stable');
  });
});
