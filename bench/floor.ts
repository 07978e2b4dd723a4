/**
 * The floor as a process, beside `fleet-rollout simulate` as a user runs it:
 * `node dist/bench/floor.js SCENARIO.json` reads the bench's rolling scenario
 * (workloads.ts), runs the least-work loop of baseline.ts on it and prints
 * `{"stable", "failed", "duration_s", "events"}`. It reads only what the loop
 * needs: the group's node count and the job's window and health check.
 */
import { readFileSync } from 'node:fs';
import { runBaseline } from './baseline.js';
import { rollingModel } from './workloads.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: node dist/bench/floor.js SCENARIO.json\n');
  process.exit(2);
}
const scenario = JSON.parse(readFileSync(file, 'utf8')) as { fleet: { groups: Array<{ count: number }> } };
const nodes = scenario.fleet.groups.reduce((sum, group) => sum + group.count, 0);
const result = runBaseline(nodes, rollingModel(nodes));
process.stdout.write(`${JSON.stringify({ stable: result.stable, failed: result.failed, duration_s: result.endMs / 1000, events: result.events })}\n`);
