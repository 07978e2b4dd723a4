/**
 * The simulator's randomness: counter-based streams, one per node.
 *
 * Every draw is a pure function of (seed, node id, draw number on that node):
 *
 *     key     = fnv1a32(node id) folded with the seed, then mixed (seed key)
 *     draw(n) = lowbias32(key ^ lowbias32(n + GOLDEN)) / 2^32      in [0, 1)
 *
 * Each execution on a node draws from its own stream, keyed by the version
 * and whether it is a revert (`executionStreamKey`): an update's fate (crash,
 * fail, start delay) and its n-th health report are the same draws whatever
 * happened on the node before, so how long a policy kept a node reporting
 * cannot shift the draws of a later revert or version (common random numbers
 * for `compare` and `tune`).
 *
 * `lowbias32` is Chris Wellons' 32-bit integer finalizer (a bijection with
 * near-ideal avalanche). Because a node's draws depend on nothing but its own
 * id and how many draws it made, a node's fate does not depend on the order in
 * which the engine visits nodes, on the window size, or on what other nodes
 * did: with the same seed, the same nodes are the bad ones under `rolling` and
 * under `canary`, which is what a what-if comparison needs.
 */

const GOLDEN = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/** Chris Wellons' lowbias32 finalizer: a bijection on 32-bit integers. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Folds a seed (any integer 0..2^53-1) into 32 bits, both halves mixed. */
export function seedKey(seed: number): number {
  const low = seed >>> 0;
  const high = Math.floor(seed / TWO_POW_32) >>> 0;
  return mix32(low ^ mix32(high + GOLDEN));
}

/** The stream key of one node under a seed key: FNV-1a over the id's UTF-16 units, started from the seed. */
export function nodeStreamKey(seed: number, nodeId: string): number {
  let hash = (0x811c9dc5 ^ seedKey(seed)) >>> 0;
  for (let i = 0; i < nodeId.length; i += 1) {
    hash ^= nodeId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return mix32(hash);
}

/** The `n`-th uniform draw in [0, 1) of the stream `key`. */
export function uniform(key: number, n: number): number {
  return mix32(key ^ mix32(n + GOLDEN)) / TWO_POW_32;
}

/** The stream of one execution on a node: its version, and whether it reverts to that version. */
export function executionStreamKey(nodeKey: number, version: number, revert: boolean): number {
  return mix32(nodeKey ^ mix32(version * 2 + (revert ? 1 : 0) + GOLDEN));
}
