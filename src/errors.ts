/**
 * A mistake in what the caller asked for (an unknown id, a missing file, a column that is not there).
 * Its message starts with the field at fault; tools return it as an isError result and the CLI
 * prints it, with no stack trace.
 */
export class InputError extends Error {
  override name = 'InputError';
}

/** A command line the CLI cannot run (an unknown flag, a bad value): printed with exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
