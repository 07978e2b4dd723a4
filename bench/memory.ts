/**
 * Memory figures of a bench child process. Peak RSS is the kernel's
 * high-water mark (getrusage), so it catches the peak of a synchronous run
 * that no sampling timer could interrupt. Heap figures are taken after a full
 * GC (the child runs with --expose-gc); the time a checkpoint takes is
 * returned so callers leave it out of their timings.
 */
import { getHeapStatistics } from 'node:v8';

export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the bench case with node --expose-gc');
  gc();
  gc(); // a second pass frees what the first one's finalizers released
}

export function heapUsedAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Bytes; the process's peak resident set so far. */
export function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

export interface HeapFigures {
  peak_rss: number;
  heap_used: number;
  heap_total: number;
  heap_size_limit: number;
  peak_malloced_memory: number;
  external: number;
}

export function heapFigures(): HeapFigures {
  const v8 = getHeapStatistics();
  const usage = process.memoryUsage();
  return {
    peak_rss: peakRss(),
    heap_used: usage.heapUsed,
    heap_total: usage.heapTotal,
    heap_size_limit: v8.heap_size_limit,
    peak_malloced_memory: v8.peak_malloced_memory,
    external: usage.external,
  };
}

/** Largest live heap seen at checkpoints, over a floor taken before the measured objects existed. */
export class HeapProbe {
  private readonly floor = heapUsedAfterGc();
  peak = 0;
  /** Milliseconds spent in checkpoints (to subtract from timings). */
  pauseMs = 0;

  checkpoint(): void {
    const start = performance.now();
    this.peak = Math.max(this.peak, heapUsedAfterGc() - this.floor);
    this.pauseMs += performance.now() - start;
  }
}
