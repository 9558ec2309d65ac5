/** The process's logger: structured JSON, with credentials, cookies and secrets in URLs kept out of it. */
import type { FastifyBaseLogger } from 'fastify';
import pino, { type DestinationStream } from 'pino';
import type { Config } from './config.js';
import { redactUrl } from './http/log-redaction.js';

/** The request and error serializers Fastify's own logger uses, for a logger made here. */
const serializers = {
  req: (request: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) => ({
    method: request.method,
    // Invite codes, webhook secrets and ?token= travel in URLs: never into the log.
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  }),
  res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
  err: pino.stdSerializers.err,
};

/** The process's structured JSON logger (to stdout, or `destination`); credentials, cookies and secrets in URLs never reach it. */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): FastifyBaseLogger {
  const options = {
    level: config.logLevel,
    serializers,
    redact: ['req.headers.cookie', 'req.headers.authorization', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'],
  };
  return destination ? pino(options, destination) : pino(options);
}
