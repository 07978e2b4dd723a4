import { describe, expect, it } from 'vitest';
import { jobSpec, JOB, nodes, rig } from './support/engineFixture.js';
import type { JobSpec } from '../src/spec/types.js';

describe('§1 jobs, versions and deployments', () => {
  it('§1 each accepted submission that differs creates version 1, 2, 3 ... and a deployment job#n', () => {
    const r = rig({ fleet: nodes(1) });
    expect(r.engine.submit(jobSpec())).toEqual({ job: JOB, version: 1, unchanged: false, deployment: `${JOB}#1` });
    expect(r.engine.submit(jobSpec({ labels: { v: '2' } }))).toEqual({ job: JOB, version: 2, unchanged: false, deployment: `${JOB}#2` });
    expect(r.engine.submit(jobSpec({ labels: { v: '3' } }))).toEqual({ job: JOB, version: 3, unchanged: false, deployment: `${JOB}#3` });
    expect(r.engine.deployments().map((d) => [d.id, d.kind, d.from_version, d.to_version])).toEqual([
      [`${JOB}#1`, 'create', null, 1],
      [`${JOB}#2`, 'update', 1, 2],
      [`${JOB}#3`, 'update', 2, 3],
    ]);
  });

  it('§1 a submission equal to the current version is unchanged and starts nothing (key order does not matter)', () => {
    const r = rig({ fleet: nodes(1) });
    const spec = jobSpec({ config: { a: 1, b: [1, 2] } });
    r.engine.submit(spec);
    const reordered = JSON.parse(JSON.stringify({ ...spec, config: { b: [1, 2], a: 1 } })) as JobSpec;
    expect(r.engine.submit(reordered)).toEqual({ job: JOB, version: 1, unchanged: true, deployment: null });
    expect(r.executor.starts).toHaveLength(1);
    expect(r.engine.deployments()).toHaveLength(1);
  });

  it('§1 a label named __proto__ is an ordinary key: changing its value is a new version', () => {
    const r = rig({ fleet: nodes(1) });
    const withLabel = (value: string): JobSpec => jobSpec({ labels: JSON.parse(`{"__proto__": "${value}"}`) as Record<string, string> });
    r.engine.submit(withLabel('a'));
    expect(r.engine.submit(withLabel('a')).unchanged).toBe(true);
    expect(r.engine.submit(withLabel('b'))).toMatchObject({ version: 2, unchanged: false });
  });

  it('§1 jobs are identified by namespace/name', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec());
    const other = r.engine.submit(jobSpec({ namespace: 'prod' }));
    expect(other).toMatchObject({ job: 'prod/web', version: 1, deployment: 'prod/web#1' });
    expect(r.engine.status('prod/web')?.kind).toBe('create');
  });

  it('§1 a health report\'s job identifies the job: two jobs on one node are judged apart', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ deployment: { health_check: { deadline: '5m', min_healthy_time: '0s', max_error_rate: 0.1 } } }));
    r.engine.submit(jobSpec({ name: 'api', deployment: { health_check: { deadline: '5m', min_healthy_time: '0s', max_error_rate: 0.1 } } }));
    r.engine.reportHealth({ node: 'n-01', job: 'default/api', version: 1, healthy: true });
    expect(r.engine.nodeState('default/api#1', 'n-01')).toBe('stable');
    expect(r.engine.nodeState(`${JOB}#1`, 'n-01')).toBe('updating');
  });

  it('§1 the engine asks the executor to run each version with its spec and a stable execution id', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec({ config: { pipeline: 'x' } }));
    expect(r.executor.starts).toEqual([
      expect.objectContaining({ executionId: `${JOB}#1/n-01/update-1`, deployment: `${JOB}#1`, job: JOB, version: 1, node: 'n-01', purpose: 'update' }),
    ]);
    expect(r.executor.starts[0]?.spec.config).toEqual({ pipeline: 'x' });
  });

  it('§1 status answers by deployment id or by job (its latest deployment)', () => {
    const r = rig({ fleet: nodes(1) });
    r.engine.submit(jobSpec());
    r.engine.submit(jobSpec({ labels: { v: '2' } }));
    expect(r.engine.status(JOB)?.id).toBe(`${JOB}#2`);
    expect(r.engine.status(`${JOB}#1`)?.state).toBe('canceled');
    expect(r.engine.status('nope')).toBeUndefined();
  });

  it('§1 a spec the engine cannot compute with is refused before anything changes', () => {
    const r = rig({ fleet: nodes(1) });
    expect(() => r.engine.submit(jobSpec({ selector: { match_labels: {}, match_expressions: ['a in ('], match_ids: [] } }))).toThrow();
    expect(r.engine.deployments()).toEqual([]);
  });
});
