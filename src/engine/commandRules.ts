/** When an operator command applies (contract §7); refused commands throw a `CommandError` saying why. */
import { isLive } from '../../machines/index.js';
import { CommandError } from './errors.js';
import type { DeploymentState, OperatorCommand } from './types.js';

export function checkCommand(command: Exclude<OperatorCommand['type'], 'rollback'>, deployment: string, state: DeploymentState): void {
  const where = `deployment ${deployment} is ${state}`;
  switch (command) {
    case 'pause':
      if (state === 'paused') throw new CommandError('already_paused', `${where} already`);
      if (!isLive(state)) throw new CommandError('not_pausable', `${where}: only pending, in_progress or awaiting_promotion deployments can be paused`);
      return;
    case 'resume':
      if (state !== 'paused') throw new CommandError('not_paused', `${where}, not paused: nothing to resume`);
      return;
    case 'promote':
      if (state !== 'awaiting_promotion') {
        throw new CommandError('not_awaiting_promotion', `${where}: promote applies only to a canary deployment in awaiting_promotion`);
      }
      return;
    case 'abort':
      if (!isLive(state)) {
        throw new CommandError('not_abortable', `${where}: only pending, in_progress, paused or awaiting_promotion deployments can be aborted`);
      }
      return;
  }
}
