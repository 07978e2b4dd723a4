/**
 * The shipped scenarios' traces, byte for byte (§8: the same seed gives the
 * same trace). The fixture holds the sha256 of each trace as
 * `fleet-rollout simulate simulations/NAME.yaml --trace FILE` wrote it before
 * the deployment room was built (issue 8); a change in trace bytes shows up
 * here and is made deliberately, by updating the fixture.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/sim/run.js';
import { loadScenario } from '../src/sim/scenario.js';
import { traceWriter } from '../src/sim/trace.js';
import { REPO } from './cli-harness.js';

interface Fixture {
  traces: Record<string, { sha256: string; lines: number }>;
}

const fixture = JSON.parse(readFileSync(join(REPO, 'test/fixtures/shipped-traces.json'), 'utf8')) as Fixture;
const shipped = readdirSync(join(REPO, 'simulations'))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => file.slice(0, -'.yaml'.length))
  .sort();

async function traceOf(name: string): Promise<{ sha256: string; lines: number }> {
  const file = join(REPO, 'simulations', `${name}.yaml`);
  const load = await loadScenario(await readFile(file), file, async (path) => ({ ok: true, bytes: await readFile(path) }));
  if (!load.ok) throw new Error(JSON.stringify(load.errors));
  // The CLI's `--trace FILE` path: the same writer, the same bytes.
  const hash = createHash('sha256');
  let text = '';
  const writer = traceWriter((chunk) => {
    hash.update(chunk);
    text += chunk;
  });
  runScenario(load.scenario, { trace: writer.sink });
  writer.flush();
  return { sha256: hash.digest('hex'), lines: text.split('\n').length - 1 };
}

describe('§8 shipped scenarios: traces are byte-identical to the recorded ones', () => {
  it('§8 every shipped scenario has a recorded trace', () => {
    expect(Object.keys(fixture.traces).sort()).toEqual(shipped);
  });

  for (const name of shipped) {
    it(`§8 simulations/${name}.yaml gives the recorded trace`, async () => {
      expect(await traceOf(name)).toEqual(fixture.traces[name]);
    });
  }
});
