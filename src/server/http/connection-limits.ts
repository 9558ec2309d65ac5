/**
 * What one connection may hold: how long a request may take to arrive (headers, then the
 * whole body: a body dribbled in byte by byte is cut off), how many connections are open
 * at once, and the answer to a request Node's parser refuses before Fastify sees it (a URL
 * or headers over 16 KiB, a timeout, malformed HTTP) — in the API's error shape too.
 */
import { STATUS_CODES, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { AppError } from './errors.js';

/** How often Node looks for requests past their deadline (its default, 30 s, would let a 30 s deadline run to 60). */
const DEADLINE_CHECK_MS = 1_000;

/** Node's http server options for the configured deadlines (Fastify passes them to createServer). */
export function connectionOptions(config: Pick<Config, 'requestTimeoutSeconds' | 'headersTimeoutSeconds'>): {
  requestTimeout: number;
  http: ServerOptions;
} {
  const requestTimeout = config.requestTimeoutSeconds * 1000;
  return {
    requestTimeout,
    http: {
      requestTimeout,
      headersTimeout: config.headersTimeoutSeconds * 1000,
      connectionsCheckingInterval: Math.min(DEADLINE_CHECK_MS, requestTimeout),
    },
  };
}

/** Caps the open connections (WebSockets included); Node closes the ones over the cap as they arrive. */
export function limitConnections(app: FastifyInstance, maxConnections: number): void {
  app.server.maxConnections = maxConnections;
}

function answerFor(code: string | undefined): AppError {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError(408, 'request_timeout', 'The request took too long to arrive; send it again.');
    case 'HPE_HEADER_OVERFLOW':
      return new AppError(431, 'headers_too_large', 'The URL and headers are too large (16 KiB at most).');
    default:
      return new AppError(400, 'bad_request', 'The request could not be understood.');
  }
}

/**
 * Fastify's `clientErrorHandler`: Node's parser refused the request (or its deadline
 * passed). Answers as every other error does, `{error: {code, message}}`, then closes.
 */
export function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  // A connection reset: nobody is left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = answerFor(error.code);
  this.log.debug({ code: error.code, status: answer.status }, 'client error');
  // As Node does: answer only if no response has begun on this connection.
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !response?.headersSent) {
    const body = JSON.stringify(answer.toBody());
    socket.write(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n' +
        body,
    );
  }
  socket.destroy(error);
}
