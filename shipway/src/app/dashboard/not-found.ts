import { UsageError } from '../../core/errors.js';

/** Something the dashboard was asked for does not exist (an HTTP 404, not a bad request). */
export class NotFoundError extends UsageError {
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}
