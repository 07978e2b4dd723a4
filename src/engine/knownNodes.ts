/**
 * Every node the engine knows, by its dense index: in the fleet (present),
 * or seen once and gone (removed, or only named by a restored deployment).
 * An index never changes for as long as the engine lives.
 *
 * Columns, no object per node: ids and labels in arrays, presence and
 * connection in a byte each, the arrival order in a float. At a million
 * nodes an object a node was a million more for the garbage collector to
 * copy out of the young generation and mark, for data that is read a field
 * at a time. Callers that need a node as a `FleetNode` get a view (reused,
 * for predicates) or a copy.
 */
import type { FleetNode } from '../selector/types.js';
import { NodeIndex } from './nodeIndex.js';

const PRESENT = 1;
const CONNECTED = 2;
const INITIAL_CAPACITY = 1024;

export class KnownNodes {
  private readonly index = new NodeIndex();
  private readonly ids: string[] = [];
  private readonly labels: Record<string, string>[] = [];
  private flags = new Uint8Array(INITIAL_CAPACITY);
  /** When each node last joined the fleet, counted in arrivals; -1 for a node never in it. */
  private arrival = new Float64Array(INITIAL_CAPACITY);
  private arrivals = 0;
  /** A node known already joined: index order is no longer arrival order. */
  private outOfOrder = false;
  /** What `view` hands out, refilled each call. */
  private readonly shown: FleetNode = { id: '', labels: {}, connected: false };

  /** The index of a node id ever known; -1 when the engine never saw it. */
  indexOf(id: string): number {
    return this.index.indexOf(id);
  }

  /** The index of the node of this id in the fleet; -1 when it is not in it. */
  presentIndexOf(id: string): number {
    const i = this.index.indexOf(id);
    return i >= 0 && (this.flags[i]! & PRESENT) !== 0 ? i : -1;
  }

  /** The index of a node id, made (not in the fleet) when the engine has never seen it. */
  intern(id: string): number {
    const i = this.index.indexOf(id);
    return i >= 0 ? i : this.make(id, {}, 0);
  }

  /**
   * Puts a node not present in the fleet at the end of the arrival order;
   * returns its index. `known`: its id's index, when the caller looked it up already.
   */
  add(node: FleetNode, known = this.index.indexOf(node.id)): number {
    const flags = PRESENT | (node.connected ? CONNECTED : 0);
    if (known < 0) return this.make(node.id, node.labels, flags);
    this.outOfOrder = true;
    this.labels[known] = node.labels;
    this.flags[known] = flags;
    this.arrival[known] = this.arrivals++;
    return known;
  }

  remove(i: number): void {
    this.flags[i]! &= ~PRESENT;
  }

  isPresent(i: number): boolean {
    return (this.flags[i]! & PRESENT) !== 0;
  }

  isConnected(i: number): boolean {
    return (this.flags[i]! & CONNECTED) !== 0;
  }

  setConnected(i: number, connected: boolean): void {
    this.flags[i] = connected ? this.flags[i]! | CONNECTED : this.flags[i]! & ~CONNECTED;
  }

  idOf(i: number): string {
    return this.ids[i]!;
  }

  labelsOf(i: number): Record<string, string> {
    return this.labels[i]!;
  }

  setLabels(i: number, labels: Record<string, string>): void {
    this.labels[i] = labels;
  }

  /** The node as a `FleetNode`, valid until the next call (for a predicate, which keeps nothing). */
  view(i: number): FleetNode {
    const shown = this.shown;
    shown.id = this.ids[i]!;
    shown.labels = this.labels[i]!;
    shown.connected = (this.flags[i]! & CONNECTED) !== 0;
    return shown;
  }

  /** Is the node of this index in the fleet and does it pass `match`? */
  presentAndMatching(i: number, match: (node: FleetNode) => boolean): boolean {
    return i < this.ids.length && (this.flags[i]! & PRESENT) !== 0 && match(this.view(i));
  }

  /** Indexes of the nodes present, in order of arrival. */
  present(): number[] {
    const present: number[] = [];
    for (let i = 0; i < this.ids.length; i++) if ((this.flags[i]! & PRESENT) !== 0) present.push(i);
    return this.outOfOrder ? present.sort((a, b) => this.arrival[a]! - this.arrival[b]!) : present;
  }

  /** Every index known, 0 .. count - 1. */
  get count(): number {
    return this.ids.length;
  }

  private make(id: string, labels: Record<string, string>, flags: number): number {
    const i = this.index.add(id);
    if (i === this.flags.length) this.grow();
    this.ids.push(id);
    this.labels.push(labels);
    this.flags[i] = flags;
    this.arrival[i] = (flags & PRESENT) !== 0 ? this.arrivals++ : -1;
    return i;
  }

  private grow(): void {
    const flags = new Uint8Array(this.flags.length * 2);
    flags.set(this.flags);
    this.flags = flags;
    const arrival = new Float64Array(this.arrival.length * 2);
    arrival.set(this.arrival);
    this.arrival = arrival;
  }
}
