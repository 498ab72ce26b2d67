/**
 * Errors that cross into answers: bad input names its field (ConfigError, an
 * `invalid` answer), a refused command says why (CommandError). Everything
 * else thrown becomes an `internal` answer with its message.
 */

/** The message of anything thrown, for logs, statuses and answers. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Bad input: the message names the flag or field and what was wrong with it. */
export class ConfigError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
    this.field = field;
  }
}

/** A command refused for a reason other than malformed input: what it names does not exist, or not now. */
export class CommandError extends Error {
  readonly code: 'not-found' | 'conflict' | 'unavailable';
  readonly field: string | undefined;
  constructor(code: 'not-found' | 'conflict' | 'unavailable', message: string, field?: string) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.field = field;
  }
}
