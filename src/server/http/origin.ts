/** The site's own origin: PUBLIC_URL when configured, else what the request says (trusted only behind TRUST_PROXY). */
import type { FastifyRequest } from 'fastify';

export function siteOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}
