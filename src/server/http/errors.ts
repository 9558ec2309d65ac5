/**
 * Errors as the API promises them: `{"error": {"code", "message", "field"?}}` with the
 * right status. Services throw these; one handler turns anything else into a 4xx for
 * malformed requests, 503 for a lost database and, last resort, a generic 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../shared/errors.js';
import type { ErrorBody } from '../../shared/protocol.js';

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

function rateLimited(retryAfterSeconds: number, message = `Too many attempts; try again in ${retryAfterSeconds} seconds.`) {
  return new AppError(429, 'rate_limited', message, undefined, { 'retry-after': String(retryAfterSeconds) });
}

/** The handful of error factories every feature uses. */
export const errors = {
  validation: (message: string, field?: string) => new AppError(400, 'validation_failed', message, field),
  authRequired: () => new AppError(401, 'auth_required', 'Sign in to continue.'),
  invalidCredentials: () => new AppError(401, 'invalid_credentials', 'That username and password do not match an account.'),
  csrf: () =>
    new AppError(403, 'csrf_failed', 'The X-CSRF-Token header is missing or wrong; reload the page and try again.'),
  forbidden: (message: string) => new AppError(403, 'forbidden', message),
  notMember: () => new AppError(403, 'not_member', 'Join this room first.'),
  notFound: (what: string) => new AppError(404, 'not_found', `${what} was not found.`),
  conflict: (code: ErrorCode, message: string, field?: string) => new AppError(409, code, message, field),
  rateLimited,
  /** A 429 for a budget that has room again at `retryAt` (epoch ms): Retry-After in whole seconds, at least 1. */
  rateLimitedUntil: (retryAt: number, now: number) => rateLimited(Math.max(1, Math.ceil((retryAt - now) / 1000))),
  unavailable: (message = 'The service is temporarily unavailable; try again shortly.') =>
    new AppError(503, 'service_unavailable', message, undefined, {
      'retry-after': '5',
    }),
  /** The readiness probe's answer: this instance cannot reach its database. */
  databaseUnavailable: () => new AppError(503, 'database_unavailable', 'The database cannot be reached.', undefined, { 'retry-after': '5' }),
  upgradeRequired: () =>
    new AppError(426, 'upgrade_required', 'Connect with a WebSocket client (Upgrade: websocket).', undefined, { upgrade: 'websocket' }),
  /** Last resort; says nothing of the cause. */
  internal: (message = 'Something went wrong on our side; try again.') => new AppError(500, 'internal_error', message),
};

/** Answers with the error: its status, headers and body. */
export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  return reply.status(error.status).headers(error.headers).send(error.toBody());
}

interface AjvIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Turns the first schema violation into a sentence naming the field. */
export function describeValidationIssue(issue: AjvIssue, part: string): { message: string; field?: string } {
  const pathField = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const field = issue.keyword === 'required' ? String(issue.params.missingProperty) : pathField || undefined;
  const name = field ?? (part === 'body' ? 'The request body' : `The ${part}`);
  switch (issue.keyword) {
    case 'required':
      return { message: `${field} is required.`, field };
    case 'type':
      return { message: `${name} must be ${article(String(issue.params.type))}.`, field };
    case 'minLength':
      return { message: `${name} must be at least ${issue.params.limit} characters.`, field };
    case 'maxLength':
      return { message: `${name} must be at most ${issue.params.limit} characters.`, field };
    case 'minimum':
      return { message: `${name} must be at least ${issue.params.limit}.`, field };
    case 'maximum':
      return { message: `${name} must be at most ${issue.params.limit}.`, field };
    case 'minItems':
      return { message: `${name} must have at least ${issue.params.limit} item${issue.params.limit === 1 ? '' : 's'}.`, field };
    case 'maxItems':
      return { message: `${name} may have at most ${issue.params.limit} items.`, field };
    case 'uniqueItems':
      return { message: `${name} must not name the same item twice.`, field };
    case 'pattern':
    case 'format':
      return { message: `${name} is not in the expected format.`, field };
    case 'const':
    case 'enum':
      return { message: `${name} is not one of the allowed values.`, field };
    default:
      return { message: `${name} is invalid${issue.message ? `: ${issue.message}` : ''}.`, field };
  }
}

function article(type: string): string {
  const readable = type.replace(/,/g, ' or ');
  return /^[aeiou]/.test(readable) ? `an ${readable}` : `a ${readable}`;
}

/** Errors that mean the database cannot be reached, rather than a bug. */
function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return (
    (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03', '08006', '08001', '08003'].includes(code)) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout/i.test(
      (error as Error)?.message ?? '',
    )
  );
}

/** Maps any thrown error to the API's error shape and status. */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (fastifyError?.validation?.[0]) {
    const { message, field } = describeValidationIssue(fastifyError.validation[0], fastifyError.validationContext ?? 'body');
    return errors.validation(message, field);
  }
  switch (fastifyError?.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(415, 'unsupported_media_type', 'Send the request body as application/json.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'payload_too_large', 'The request body is too large.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, 'invalid_json', 'The request body is empty; send a JSON object.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError(400, 'invalid_json', 'The request body is not valid JSON.');
    case 'FST_ERR_BAD_URL':
      return new AppError(400, 'bad_url', 'The URL is malformed (check its percent-encoding).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError(414, 'uri_too_long', 'A part of the URL is too long.');
  }
  // Safety net: text PostgreSQL cannot store is the client's input, not our failure.
  const sqlState = (error as { code?: unknown })?.code;
  if (sqlState === '22021' || sqlState === '22P05') return errors.validation('Text may not contain the NUL character (U+0000).');
  if (isDatabaseUnavailable(error)) return errors.unavailable();
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, 'bad_request', 'The request could not be understood.');
  }
  return undefined;
}

/** Fastify's `frameworkErrors` option: router-level failures (bad URLs) in the API's error shape. */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const appError = toAppError(error) ?? new AppError(400, 'bad_request', 'The request could not be understood.');
  void sendError(reply, appError);
}

/**
 * The client hung up before its request had arrived (an aborted upload): Node fails the
 * request stream with ECONNRESET, the code a lost database connection has too.
 */
function isClientAbort(error: unknown, request: FastifyRequest): boolean {
  return (error as { code?: unknown })?.code === 'ECONNRESET' && (request.raw.readableAborted || request.raw.aborted);
}

/** Installs the one error handler. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    if (isClientAbort(error, request)) {
      // Nobody is left to read an answer, and nothing is wrong on our side.
      request.log.info('request aborted by the client');
      return sendError(reply, new AppError(400, 'bad_request', 'The request was aborted before it arrived.'));
    }
    const appError = toAppError(error);
    if (appError) {
      if (appError.status >= 500) request.log.warn({ code: appError.code }, 'request failed: dependency unavailable');
      return sendError(reply, appError);
    }
    // Last resort: log the context (never bodies), answer without details.
    request.log.error({ err: error, url: request.routeOptions.url }, 'unhandled error');
    return sendError(reply, errors.internal());
  });
}
