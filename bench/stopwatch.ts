/**
 * Wall time and the process's CPU time (user + system, all threads) of a
 * stretch of code. The machine may be shared with other work: CPU time is
 * the steadier figure then, wall time the one the targets are about.
 */
export interface Elapsed {
  wall_ms: number;
  cpu_ms: number;
}

/** Starts a watch; the returned function reads it, less `pausedMs` spent in checkpoints. */
export function startWatch(): (pausedMs?: number) => Elapsed {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return (pausedMs = 0) => {
    const used = process.cpuUsage(cpu);
    return { wall_ms: performance.now() - wall - pausedMs, cpu_ms: (used.user + used.system) / 1000 - pausedMs };
  };
}
