/** Why an operator command was refused; `code` is stable, `message` says what to do. */
export type CommandErrorCode =
  | 'unknown_job'
  | 'not_awaiting_promotion'
  | 'not_pausable'
  | 'already_paused'
  | 'not_paused'
  | 'not_abortable'
  | 'no_completed_version'
  | 'unknown_version'
  /** §7 v1.1: the version was forgotten with its deployments (bounded history). */
  | 'forgotten_version'
  | 'disposed'
  /** §7a "One leader": this replica lost its lease; open a new one to stand by. */
  | 'not_leader';

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly code: CommandErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * §7a: an input of the wrong shape or type, refused before it is recorded.
 * `input` names the call (`reportHealth`, `upsertNode` ...), `field` the
 * offending field (`healthy`, `labels.zone`; empty for the input itself).
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    readonly input: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${input}: ${field === '' ? 'the input' : field} ${reason}`);
  }
}
