/**
 * URLs as the request log shows them: secrets that travel in a URL (invite codes, webhook
 * secrets, `?token=` and its kin) and search words (`?q=`) are replaced by `[redacted]`, so whoever reads the logs
 * cannot join a private room or post as a webhook with what they find there.
 */

const REDACTED = '[redacted]';

/**
 * Path segments that are secrets themselves: `/api/v1/invites/<code>`, the client's
 * `/invite/<code>`, `/hooks/<secret>`; matched on the decoded path, repeated slashes too.
 */
const SECRET_SEGMENT = /(\/(?:api\/+v1\/+invites|invite|hooks)\/+)[^/]+/gi;

/** Query parameters whose value is a credential, or what someone searched for (`q`: words of messages, names). */
const SECRET_PARAMS = new Set(['token', 'access_token', 'secret', 'code', 'key', 'password', 'signature', 'q']);

/**
 * The path with its percent-escapes decoded, as the router reads it (`/api/v1/%69nvites/…`
 * reaches the invites route) and more (`%2F` too). A run of escapes that is not UTF-8 stays
 * as it is: decoding never throws, and such a segment is still redacted after `invites/`.
 */
function decodedPath(path: string): string {
  return path.replace(/(?:%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** The path as it came when it holds no secret, else decoded with its secrets redacted. */
function redactPath(path: string): string {
  const decoded = decodedPath(path);
  const redacted = decoded.replace(SECRET_SEGMENT, `$1${REDACTED}`);
  return redacted === decoded ? path : redacted;
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
