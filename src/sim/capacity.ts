/**
 * How many nodes a simulation can hold, decided before it starts (contract
 * §8: a request beyond the machine is bad input, exit 2, never a crash).
 *
 * The cost of a node is measured, not guessed: the peak live heap of a run
 * (after full GCs at 40 points through it) divided by its nodes, on
 * 1,000,000 nodes with node 20 (`node --expose-gc --max-old-space-size=16000
 * dist/bench/nodeCost.js 1000000`, see docs/cli.md "Limits"):
 * - rolling, 1% window, no previous version: 565 B a node;
 * - the same over a running previous version (two deployments): 687 B;
 * - every node updating at once (max_parallel 0) over a previous version:
 *   1,446 B, the worst case, and the figure used.
 * Each `submit` event adds a deployment: about 150 B a node more.
 */
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

/** Peak live heap a node costs in the worst measured case (every node in flight at once). */
export const BYTES_PER_NODE = 1_500;
/** What each further deployment (a `submit` event) adds per node. */
export const BYTES_PER_NODE_PER_DEPLOYMENT = 150;
/** Share of the heap limit a run may fill: V8 needs headroom to collect. */
const HEAP_SHARE = 0.85;
/** Share of the machine's memory the live heap of one process's runs may fill: RSS runs up to about twice the live heap (GC headroom), and Monte Carlo workers each hold a fleet. */
const MACHINE_SHARE = 0.4;

export interface Capacity {
  /** The V8 heap limit of this process (set with --max-old-space-size). */
  heapBytes: number;
  /** The machine's memory. */
  machineBytes: number;
  /** Most nodes one run fits in this process's heap. */
  maxNodes: number;
  /** Most nodes the machine's memory holds across concurrent runs (worker threads). */
  machineNodes: number;
}

export function machineCapacity(extraDeployments = 0): Capacity {
  const perNode = BYTES_PER_NODE + extraDeployments * BYTES_PER_NODE_PER_DEPLOYMENT;
  const heapBytes = getHeapStatistics().heap_size_limit;
  const machineBytes = totalmem();
  return {
    heapBytes,
    machineBytes,
    maxNodes: Math.floor(Math.min(heapBytes * HEAP_SHARE, machineBytes * MACHINE_SHARE) / perNode),
    machineNodes: Math.floor((machineBytes * MACHINE_SHARE) / perNode),
  };
}

/** Why a fleet of `nodes` cannot be simulated here, or null when it fits. */
export function fleetTooLarge(nodes: number, extraDeployments = 0): string | null {
  const capacity = machineCapacity(extraDeployments);
  if (nodes <= capacity.maxNodes) return null;
  const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const perNode = BYTES_PER_NODE + extraDeployments * BYTES_PER_NODE_PER_DEPLOYMENT;
  const raise =
    capacity.heapBytes * HEAP_SHARE < capacity.machineBytes * MACHINE_SHARE
      ? `; a larger heap holds more (NODE_OPTIONS=--max-old-space-size=MiB, up to about ${Math.floor(capacity.machineNodes).toLocaleString('en-US')} nodes on this machine's ${gib(capacity.machineBytes)})`
      : '';
  return (
    `the fleet has ${nodes.toLocaleString('en-US')} nodes; at most ${capacity.maxNodes.toLocaleString('en-US')} fit in this process ` +
    `(about ${perNode.toLocaleString('en-US')} B of heap a node, heap limit ${gib(capacity.heapBytes)})${raise}`
  );
}
