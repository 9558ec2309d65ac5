/**
 * Every `error.code` the API answers with, over HTTP and in socket `error` frames: one
 * catalogue for the server's errors, the OpenAPI document and the client. Plain values, so
 * the client imports it without the schema builders.
 */
export const ERROR_CODES = [
  // the request itself
  'validation_failed',
  'invalid_json',
  'bad_request',
  'bad_url',
  'uri_too_long',
  'headers_too_large',
  'request_timeout',
  'payload_too_large',
  'unsupported_media_type',
  'upgrade_required',
  'invalid_frame',
  'file_too_large',
  'range_not_satisfiable',
  // who is asking
  'auth_required',
  'invalid_credentials',
  'csrf_failed',
  'forbidden',
  'not_member',
  'banned',
  // what is asked for
  'not_found',
  'invite_not_found',
  'invite_expired',
  'invite_used_up',
  'invite_revoked',
  'username_taken',
  'email_taken',
  'room_name_taken',
  'too_many_reactions',
  'invalid_attachment',
  'already_member',
  'owner_must_hand_over',
  'quota_exceeded',
  // the server
  'rate_limited',
  'service_unavailable',
  'search_index_building',
  'search_off',
  'database_unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
