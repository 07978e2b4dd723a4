/**
 * Preloaded into a measured child (`node --import dist/bench/reportUsage.js
 * ...`): when the process exits, writes its peak RSS and CPU time as JSON to
 * the file named by BENCH_USAGE_FILE. Node cannot read a child's rusage, and
 * this keeps the measured process the real one (the CLI, the floor).
 */
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
if (file !== undefined) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(file, JSON.stringify({ peak_rss: usage.maxRSS * 1024, cpu_ms: (usage.userCPUTime + usage.systemCPUTime) / 1000 }));
  });
}
