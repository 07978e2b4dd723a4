/**
 * The measured cost of a node, behind the simulator's fleet-size limit
 * (src/sim/capacity.ts): the peak live heap of a run, after full GCs at 40
 * points through it, over a floor taken before the scenario was loaded,
 * divided by the node count. Three workloads: the bench's rolling create
 * (1% window), the same over a running previous version, and every node
 * updating at once (max_parallel 0) over a previous version, the worst case.
 * Usage: `node --expose-gc --max-old-space-size=16000 dist/bench/nodeCost.js [nodes]`.
 */
import { runScenario } from '../src/sim/run.js';
import { loadBenchScenario } from './cases/loadBenchScenario.js';
import { heapUsedAfterGc } from './memory.js';
import { StepCounter } from './stepCounter.js';
import { rollingScenario } from './workloads.js';

const nodes = Number(process.argv[2] ?? 1_000_000);
const job = (version: string, deployment: Record<string, unknown>) => ({ name: 'bench', type: 'pipeline', config: { version }, deployment });
const health = { deadline: '5m', min_healthy_time: '30s' };
const over = (maxParallel: number): string =>
  JSON.stringify({
    fleet: { groups: [{ count: nodes, prefix: 'edge-', labels: { env: 'production' }, spread: { region: ['a', 'b', 'c', 'd'] } }] },
    previous: job('1', { strategy: 'immediate' }),
    job: job('2', { strategy: 'rolling', max_parallel: maxParallel, health_check: health }),
    behavior: { start_delay: { min: '2s', max: '20s' }, report_interval: '10s' },
  });
const workloads: Array<[string, string]> = [
  ['rolling, 1% window', rollingScenario(nodes)],
  ['rolling, 1% window, over a previous version', over(Math.max(1, nodes / 100))],
  ['every node at once, over a previous version', over(0)],
];

const counter = new StepCounter();
for (const [name, json] of workloads) {
  const floor = heapUsedAfterGc();
  const scenario = await loadBenchScenario(json, name);
  let peak = heapUsedAfterGc() - floor;
  counter.reset(Array.from({ length: 40 }, (_, i) => Math.round(((i + 1) * 5 * nodes) / 40)), () => {
    peak = Math.max(peak, heapUsedAfterGc() - floor);
  });
  const { result } = runScenario(scenario);
  peak = Math.max(peak, heapUsedAfterGc() - floor);
  process.stdout.write(`${name}: ${Math.round(peak / nodes)} B a node at peak (${nodes.toLocaleString('en-US')} nodes, ${result.outcome}, ${counter.count.toLocaleString('en-US')} timers)\n`);
}
