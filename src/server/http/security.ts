/**
 * Transport security: strict CSP and the usual headers (helmet), HTTPS enforcement
 * behind FORCE_HTTPS. With TRUST_PROXY the scheme and client IP come from
 * X-Forwarded-* (Fastify's trustProxy) on connections from a trusted proxy; otherwise
 * those headers are ignored.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import { PRIVATE_RANGE_NAMES, type TrustProxy } from '../config.js';

function helmetOptions(forceHttps: boolean, styleSrc: string[]): HelmetOptions {
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc,
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(forceHttps ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    hsts: forceHttps ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'same-origin' },
  };
}

/**
 * The headers helmet sets for these options. They do not depend on the request, so they
 * are worked out once: @fastify/helmet ran helmet's option parsing on every request,
 * a tenth of the CPU of a small API call.
 */
function headersOf(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => {});
  return headers;
}

const isPrivatePeer = proxyAddr.compile(PRIVATE_RANGE_NAMES);

/**
 * TRUST_PROXY as Fastify's trustProxy. Fastify trusts nothing for a bare hop count, since a
 * count alone cannot tell a proxy from a client writing its own X-Forwarded-For; that would
 * make TRUST_PROXY=1 ignore nginx. So a count trusts n hops only on a connection from a
 * private or loopback address (where proxies are); a peer at a public address is the client.
 */
export function trustedProxies(trust: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (address, hop) => hop < trust && (hop > 0 || isPrivatePeer(address, hop));
}

export async function registerSecurity(app: FastifyInstance, options: { forceHttps: boolean; publicUrl: string | undefined }): Promise<void> {
  // No 'unsafe-inline': style attributes in markup are refused; CSSOM from our own script is allowed.
  const headers = headersOf(helmetOptions(options.forceHttps, ["'self'"]));
  // The API reader (Swagger UI) sets inline styles. It shows no user content, so it alone
  // may; scripts stay 'self' only there too.
  const docsHeaders = headersOf(helmetOptions(options.forceHttps, ["'self'", "'unsafe-inline'"]));
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(request.url.startsWith('/api/docs') ? docsHeaders : headers);
    // API answers are personal (sessions, messages, CSRF tokens): no browser or proxy cache keeps them.
    // The router decodes escapes (/%61pi/v1/… is an API route too), so the matched route also counts.
    if (request.url.startsWith('/api/v1/') || request.routeOptions.url?.startsWith('/api/v1/')) reply.header('cache-control', 'no-store');
    done();
  });

  if (options.forceHttps) {
    // To PUBLIC_URL's host, not the Host a request claims (it may name any site); the request's only in development.
    const publicHost = options.publicUrl === undefined ? undefined : new URL(options.publicUrl).host;
    app.addHook('onRequest', async (request, reply) => {
      if (request.protocol === 'https') return;
      // Probes and the metrics scrape stay reachable over plain HTTP from inside the network.
      if (request.url === '/healthz' || request.url === '/readyz' || request.url === '/metrics') return;
      return reply.redirect(`https://${publicHost ?? request.host}${request.url}`, 308);
    });
  }
}
