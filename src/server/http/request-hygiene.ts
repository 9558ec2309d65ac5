/**
 * What every request goes through before a route sees it: JSON only (an empty JSON
 * body counts as none), no NUL characters anywhere (PostgreSQL text cannot hold them),
 * and a 503 in the API's error shape once the server has begun to stop.
 */
import type { FastifyInstance } from 'fastify';
import { errors } from './errors.js';
import { findNul } from './nul.js';

export function registerRequestHygiene(app: FastifyInstance): void {
  // The API speaks JSON only: anything else is a 415, not a string to validate.
  app.removeContentTypeParser(['text/plain']);
  // Bodiless POSTs (join, leave, accept) often still say application/json: treat "" as no body.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    return parseJson(request, body.toString(), done);
  });

  app.addHook('preValidation', async (request) => {
    const field = findNul(request.params) ?? findNul(request.query) ?? findNul(request.body);
    if (field !== undefined) throw errors.validation(`${field} may not contain the NUL character (U+0000).`, field);
  });

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw errors.unavailable();
  });
}
