/**
 * URLs as the request log shows them: secrets that travel in a URL (invite codes, webhook
 * secrets, `?token=` and its kin) are replaced by `[redacted]`, so whoever reads the logs
 * cannot join a private room or post as a webhook with what they find there.
 */

const REDACTED = '[redacted]';

/** Path segments that are secrets themselves: `/api/v1/invites/<code>`, the client's `/invite/<code>`, `/hooks/<secret>`. */
const SECRET_SEGMENT = /(\/(?:api\/v1\/invites|invite|hooks)\/)[^/?#]+/gi;

/** Query parameters whose value is a credential. */
const SECRET_PARAMS = new Set(['token', 'access_token', 'secret', 'code', 'key', 'password', 'signature']);

function redactPath(path: string): string {
  return path.replace(SECRET_SEGMENT, `$1${REDACTED}`);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** The URL (path and query, as a request line carries it) with its secrets redacted. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = redactPath(queryAt === -1 ? url : url.slice(0, queryAt));
  if (queryAt === -1) return path;
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals === -1) return pair;
      const name = decoded(pair.slice(0, equals)).toLowerCase();
      const value = pair.slice(equals + 1);
      if (SECRET_PARAMS.has(name)) return `${pair.slice(0, equals)}=${REDACTED}`;
      // A path carried in the query (`/login?next=/invite/<code>`) is redacted as a path.
      const inner = decoded(value);
      const redacted = redactUrl(inner);
      return redacted === inner ? pair : `${pair.slice(0, equals)}=${encodeURIComponent(redacted).replaceAll(encodeURIComponent(REDACTED), REDACTED)}`;
    })
    .join('&');
  return `${path}?${query}`;
}
