/**
 * Domain errors thrown by services. The HTTP layer turns each into a status and a stable problem type;
 * the CLI prints its message as the one-line reason.
 */
export class AppError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string,
    readonly title: string,
  ) {
    super(message);
  }
}

export class NotFound extends AppError {
  constructor(what: string, id?: string) {
    super(id ? `${what} ${id} was not found` : `${what} was not found`, 404, 'not-found', 'Not found');
  }
}

export class Conflict extends AppError {
  constructor(message: string) {
    super(message, 409, 'conflict', 'Conflict');
  }
}

export class Forbidden extends AppError {
  constructor(message = 'you are not allowed to do this') {
    super(message, 403, 'forbidden', 'Forbidden');
  }
}

export class Unauthorized extends AppError {
  constructor(message = 'sign-in required') {
    super(message, 401, 'unauthorized', 'Unauthorized');
  }
}

/** Input that passed the shape check but breaks a rule; `fields` maps field names to messages. */
export class InvalidInput extends AppError {
  constructor(
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message, 422, 'validation-failed', 'Invalid input');
  }
}

/** A body or file larger than the endpoint accepts (checked while reading, so nothing larger is held). */
export class PayloadTooLarge extends AppError {
  constructor(message: string) {
    super(message, 413, 'payload-too-large', 'Too large');
  }
}

export class Gone extends AppError {
  constructor(message: string) {
    super(message, 410, 'gone', 'Link no longer valid');
  }
}

export class TooManyRequests extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many attempts; try again in ${retryAfterSeconds} seconds`, 429, 'too-many-requests', 'Too many requests');
  }
}
