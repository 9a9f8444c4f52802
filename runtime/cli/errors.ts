/** A user error: printed as one line (with file:line:column where known), exit code 2. */
export class UserError extends Error {}
