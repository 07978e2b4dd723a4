/** A Monte Carlo worker thread: runs the chunks of run indexes it is sent (monteCarlo.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { runOne, type WorkerChunk, type WorkerReply, type WorkerSetup } from './monteCarlo.js';
import { ScenarioRunError } from './run.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const reply = (message: WorkerReply): void => port.postMessage(message);

port.on('message', ({ from, to }: WorkerChunk) => {
  try {
    for (let index = from; index < to; index += 1) reply({ kind: 'run', index, summary: runOne(setup, index) });
    reply({ kind: 'chunk-done' });
  } catch (error) {
    const path = error instanceof ScenarioRunError ? error.path : null;
    reply({ kind: 'failed', path, message: error instanceof Error ? error.message : String(error) });
  }
});
