/**
 * Node id -> dense index (0, 1, 2 ... in the order ids were added), without a
 * hash table for the ids fleet groups generate. A group's ids are a prefix and
 * a zero-padded counter (fleet.ts), so a run of such ids is found by
 * arithmetic: check the prefix and the length, read the counter's digits.
 * Any other id (explicit nodes, ids that break a run) goes in a Map.
 *
 * Why: the engine looks a node up on every report and upsert, the simulator
 * on every start, judgement and tally event; at 1,000,000 nodes a Map of
 * string keys cost each of them over a second of a run in hash probes and
 * cache misses, and ~40 MB. Orchestrators name nodes the same way
 * (`edge-000123`), so the engine gains as much outside the simulator.
 */

/** Consecutive ids `prefix + counter` (counter `first`, `first + 1` ... written in `width` digits) at indexes `start`, `start + 1` ... */
interface Run {
  readonly prefix: string;
  readonly width: number;
  readonly first: number;
  readonly start: number;
  count: number;
}

/** Scanning a few runs is cheaper than one hash probe; beyond them, ids go in the Map. */
const MAX_RUNS = 16;
/** Longer counters could pass 2^53 (and no group has 10^15 nodes). */
const MAX_DIGITS = 15;

export class NodeIndex {
  private readonly runs: Run[] = [];
  private readonly others = new Map<string, number>();
  /** The last id added outside a run, with its counter: the next id may extend it into a run. */
  private candidate: { id: string; prefix: string; width: number; counter: number; index: number } | null = null;
  private added = 0;
  private lastId: string | null = null;
  private lastIndex = -1;
  /** The id `find` last missed because it is the next of the last run: adding it next needs no second parse. */
  private continuesLast: string | null = null;

  /** Ids added so far. */
  get size(): number {
    return this.added;
  }

  /** The id's index, -1 when it was never added. */
  indexOf(id: string): number {
    // A node is looked up several times in a row (its start and `node.started`, its judgement's listeners): one entry caches that.
    if (id === this.lastId) return this.lastIndex;
    const index = this.find(id);
    if (index >= 0) {
      this.lastId = id;
      this.lastIndex = index;
    }
    return index;
  }

  private find(id: string): number {
    const runs = this.runs;
    for (let r = 0; r < runs.length; r += 1) {
      const run = runs[r]!;
      const counter = counterIn(id, run.prefix, run.width);
      if (counter >= run.first && counter < run.first + run.count) return run.start + counter - run.first;
      if (counter === run.first + run.count && r === runs.length - 1 && run.start + run.count === this.added) this.continuesLast = id;
    }
    return this.others.size === 0 ? -1 : (this.others.get(id) ?? -1); // an empty Map would still hash the id
  }

  /** Adds an id not added before (check with `indexOf`); returns its index. */
  add(id: string): number {
    const index = this.added++;
    const last = this.runs.length > 0 ? this.runs[this.runs.length - 1]! : null;
    const continues = id === this.continuesLast;
    this.continuesLast = null;
    // The last run ends at the previous index, so `id` can only continue it if nothing came in between.
    if (last !== null && (continues || (last.start + last.count === index && counterIn(id, last.prefix, last.width) === last.first + last.count))) {
      last.count += 1;
      return index;
    }
    const candidate = this.candidate;
    if (candidate !== null && candidate.index === index - 1 && this.runs.length < MAX_RUNS && counterIn(id, candidate.prefix, candidate.width) === candidate.counter + 1) {
      this.others.delete(candidate.id);
      this.runs.push({ prefix: candidate.prefix, width: candidate.width, first: candidate.counter, start: candidate.index, count: 2 });
      this.candidate = null;
      return index;
    }
    this.others.set(id, index);
    this.candidate = candidateOf(id, index);
    return index;
  }
}

/** The counter of `id` if it is `prefix` then exactly `width` digits, else -1. */
function counterIn(id: string, prefix: string, width: number): number {
  if (id.length !== prefix.length + width || !id.startsWith(prefix)) return -1;
  let counter = 0;
  for (let i = prefix.length; i < id.length; i += 1) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    counter = counter * 10 + digit;
  }
  return counter;
}

/** Splits an id ending in digits into its prefix and counter; null for other ids. */
function candidateOf(id: string, index: number): { id: string; prefix: string; width: number; counter: number; index: number } | null {
  let digits = 0;
  while (digits < id.length && digits <= MAX_DIGITS) {
    const code = id.charCodeAt(id.length - 1 - digits);
    if (code < 48 || code > 57) break;
    digits += 1;
  }
  if (digits === 0 || digits > MAX_DIGITS) return null;
  const prefix = id.slice(0, id.length - digits);
  return { id, prefix, width: digits, counter: counterIn(id, prefix, digits), index };
}
