import { XautoError } from '../util/errors.js';

/** A user error on the command line: one line, exit code 2. */
export class UserError extends XautoError {
  override name = 'UserError';
}

/** `xauto launch` exit code when a stage ended the run with every implementation failed. */
export const STAGE_FAILED_EXIT = 3;

/** The run finished (its report is out) but stages failed with no fallback left: exit 3. */
export class StageFailedError extends XautoError {
  override name = 'StageFailedError';
  readonly exitCode = STAGE_FAILED_EXIT;
  constructor(readonly stages: string[]) {
    super(`${stages.length === 1 ? 'stage' : 'stages'} ${stages.join(', ')} failed (every implementation failed, no fallback left); exit ${STAGE_FAILED_EXIT}`);
  }
}
