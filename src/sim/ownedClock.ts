/**
 * The simulated world's clock when an engine may crash: the virtual clock,
 * with every timer booked under an owner (the simulated agents, or one engine
 * incarnation), so a simulated crash can drop the dead engine's timers, and a
 * restart can keep the order of timers due at the same instant. Used by the
 * harness's `restart()`; a run without crashes uses the VirtualClock alone.
 *
 * Why the order matters: the VirtualClock fires timers due at the same instant
 * in the order they were scheduled. A restored engine re-arms its deadlines
 * after the fleet's pending reports were scheduled, so without help a tie that
 * went to the engine before the crash would go to the fleet after it. A real
 * crash cannot promise either order; a test that compares continuations must
 * not see that difference, so `restart` re-arms in the old order.
 */
import type { Clock, TimerHandle } from '../engine/ports.js';
import type { CallClock, VirtualClock } from '../engine/clocks/virtualClock.js';

interface Booking {
  at: number;
  seq: number;
  owner: Lease;
  fire: () => void;
  /** The VirtualClock handle; null while the owner is still being restored. */
  armed: TimerHandle | null;
}

export class OwnedClock {
  private seq = 0;
  private readonly pending = new Set<Booking>();

  constructor(readonly clock: VirtualClock) {}

  /** A Clock whose timers are booked under a new owner; `held` timers wait for `restart` to arm them. */
  lease(held = false): Lease {
    return new Lease(this, held);
  }

  /** @internal */
  book(owner: Lease, at: number, fire: () => void): Booking {
    const booking: Booking = { at: Math.max(at, this.clock.now()), seq: this.seq++, owner, fire, armed: null };
    this.pending.add(booking);
    if (!owner.held) this.arm(booking);
    return booking;
  }

  /** @internal */
  unbook(booking: Booking): void {
    if (!this.pending.delete(booking)) return;
    if (booking.armed !== null) this.clock.cancel(booking.armed);
    booking.armed = null;
  }

  /** Drops every pending timer of `dead` (an engine that crashed). */
  revoke(dead: Lease): Booking[] {
    const dropped = this.inFiringOrder().filter((booking) => booking.owner === dead);
    for (const booking of dropped) this.unbook(booking);
    return dropped;
  }

  /**
   * Arms the held timers of `restored` (the engine restored in place of `dead`,
   * whose timers `revoke` returned), keeping ties in their pre-crash order: each
   * held timer takes the place of a dropped timer due at the same instant.
   */
  restart(dropped: Booking[], restored: Lease): void {
    const held = this.inFiringOrder().filter((booking) => booking.owner === restored);
    const others = this.inFiringOrder().filter((booking) => booking.owner !== restored);
    const wasDropped = new Set(dropped);
    const order: Booking[] = [];
    for (const booking of [...dropped, ...others].sort(firingOrder)) {
      if (!wasDropped.has(booking)) {
        order.push(booking);
        continue;
      }
      const heir = held.findIndex((candidate) => candidate.at === booking.at);
      if (heir >= 0) order.push(...held.splice(heir, 1));
    }
    // Timers the dead engine did not have go after everything due at the same instant.
    order.push(...held);
    restored.held = false;
    for (const booking of order) {
      if (booking.armed !== null) this.clock.cancel(booking.armed);
      booking.seq = this.seq++;
      this.arm(booking);
    }
  }

  private arm(booking: Booking): void {
    booking.armed = this.clock.schedule(booking.at, () => {
      this.pending.delete(booking);
      booking.armed = null;
      booking.fire();
    });
  }

  private inFiringOrder(): Booking[] {
    return [...this.pending].sort(firingOrder);
  }
}

function firingOrder(a: Booking, b: Booking): number {
  return a.at - b.at || a.seq - b.seq;
}

/** One owner's Clock. */
export class Lease implements CallClock {
  /** Timers of `scheduleCall`, by their numeric handle (the harness's fleets are small: a Map costs nothing). */
  private readonly calls = new Map<number, TimerHandle>();
  private nextCall = 0;

  constructor(
    private readonly book: OwnedClock,
    /** @internal */
    public held: boolean,
  ) {}

  now(): number {
    return this.book.clock.now();
  }

  schedule(at: number, fire: () => void): TimerHandle {
    return this.book.book(this, at, fire);
  }

  scheduleCall(at: number, call: (arg: number) => void, arg: number): number {
    const handle = this.nextCall++;
    this.calls.set(
      handle,
      this.schedule(at, () => {
        this.calls.delete(handle);
        call(arg);
      }),
    );
    return handle;
  }

  cancel(handle: TimerHandle): void {
    if (typeof handle !== 'number') return this.book.unbook(handle as Booking);
    const booking = this.calls.get(handle);
    if (booking === undefined) return;
    this.calls.delete(handle);
    this.book.unbook(booking as Booking);
  }
}
