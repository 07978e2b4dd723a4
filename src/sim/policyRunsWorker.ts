/** A worker thread of policyRuns.ts: runs the tasks it is sent, one reply each. */
import { parentPort, workerData } from 'node:worker_threads';
import { taskRunner, type PolicyRunnerSetup, type RunTask } from './policyRuns.js';
import { ScenarioRunError } from './run.js';

const runTask = taskRunner(workerData as PolicyRunnerSetup);
const port = parentPort!;

port.on('message', ({ id, task }: { id: number; task: RunTask }) => {
  try {
    port.postMessage({ kind: 'done', id, records: runTask(task) });
  } catch (error) {
    const path = error instanceof ScenarioRunError ? error.path : null;
    port.postMessage({ kind: 'failed', path, message: error instanceof Error ? error.message : String(error) });
  }
});
