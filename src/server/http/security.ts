/**
 * Transport security: strict CSP and the usual headers (helmet), HTTPS enforcement
 * behind FORCE_HTTPS. With TRUST_PROXY the scheme and client IP come from
 * X-Forwarded-* (Fastify's trustProxy); without it those headers are ignored.
 */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export async function registerSecurity(app: FastifyInstance, options: { forceHttps: boolean }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        // No 'unsafe-inline': style attributes in markup are refused; CSSOM from our own script is allowed.
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(options.forceHttps ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: options.forceHttps ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'same-origin' },
  });

  // The API reader (Swagger UI) sets inline styles. It shows no user content, so it alone
  // may; scripts stay 'self' only there too.
  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/api/docs')) return;
    const csp = reply.getHeader('content-security-policy');
    if (typeof csp === 'string') reply.header('content-security-policy', csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"));
  });

  if (options.forceHttps) {
    app.addHook('onRequest', async (request, reply) => {
      if (request.protocol === 'https') return;
      // Probes and the metrics scrape stay reachable over plain HTTP from inside the network.
      if (request.url === '/healthz' || request.url === '/readyz' || request.url === '/metrics') return;
      return reply.redirect(`https://${request.host}${request.url}`, 308);
    });
  }
}
