import { XautoError } from '../util/errors.js';

/** A user error on the command line: one line, exit code 2. */
export class UserError extends XautoError {
  override name = 'UserError';
}
