/**
 * An error whose message says all a user needs (where and what was expected): the CLI prints
 * it as one line, without a stack trace.
 */
export class XautoError extends Error {
  override name = 'XautoError';
}
