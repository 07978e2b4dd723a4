/** When an operator command applies (contract §7); refused commands throw a `CommandError` saying why. */
import { CommandError } from './errors.js';
import type { DeploymentState, OperatorCommand } from './types.js';

/** The states in which a deployment is still rolling out (neither failed, rolling back nor ended). */
export const LIVE_STATES: ReadonlySet<DeploymentState> = new Set(['pending', 'in_progress', 'paused', 'awaiting_promotion']);

export function checkCommand(command: Exclude<OperatorCommand['type'], 'rollback'>, deployment: string, state: DeploymentState): void {
  const where = `deployment ${deployment} is ${state}`;
  switch (command) {
    case 'pause':
      if (state === 'paused') throw new CommandError('already_paused', `${where} already`);
      if (!LIVE_STATES.has(state)) throw new CommandError('not_pausable', `${where}: only pending, in_progress or awaiting_promotion deployments can be paused`);
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
      if (!LIVE_STATES.has(state)) {
        throw new CommandError('not_abortable', `${where}: only pending, in_progress, paused or awaiting_promotion deployments can be aborted`);
      }
      return;
  }
}
