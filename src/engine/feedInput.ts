/**
 * A journaled input from outside (anything but a timer firing) handed to an
 * engine through its public calls, as its caller once made them: replaying a
 * recorded store (`replayJournal`, `fleet-rollout replay`) goes through the
 * same checks and journaling as the original input did.
 */
import type { Engine } from './engine.js';
import { CommandError } from './errors.js';
import type { EngineInput, SubmitResult } from './types.js';

export type OutsideInput = Exclude<EngineInput, { type: 'timer' }>;

/** Returns a submission's result. A command refused then (journaled by older builds) is refused again: the same answer. */
export function feedInput(engine: Engine, input: OutsideInput): SubmitResult | undefined {
  try {
    switch (input.type) {
      case 'submit':
        return engine.submit(input.spec, input.retry === true ? { retry: true } : {});
      case 'node.upsert':
        return void engine.upsertNode(input.node);
      case 'node.remove':
        return void engine.removeNode(input.node);
      case 'node.connected':
        return void engine.setConnected(input.node, input.connected);
      case 'report.execution':
        return void engine.reportExecution(input.report);
      case 'report.health':
        return void engine.reportHealth(input.report);
      case 'command': {
        const command = input.command;
        if (command.type === 'rollback') return void engine.rollback(command.job, command.version);
        return void engine[command.type](command.job);
      }
    }
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
  }
  return undefined;
}
