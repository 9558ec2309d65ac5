/**
 * Every throttle lifted: suites register and sign in many users from one address, and send
 * in bursts. The throttles themselves are covered by test/security (rate-limits,
 * sign-in-throttle), which set their own small limits on top of these.
 */
export const UNTHROTTLED: Readonly<Record<string, string>> = {
  RATE_LIMIT_LOGIN_PER_MINUTE: '1000000',
  RATE_LIMIT_REGISTER_PER_HOUR: '1000000',
  RATE_LIMIT_SIGN_IN_FAILURES_PER_IP: '1000000',
  RATE_LIMIT_SIGN_IN_FAILURES_PER_ACCOUNT: '1000000',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '100000000',
  RATE_LIMIT_FRAMES_PER_MINUTE: '100000000',
  RATE_LIMIT_USER_SEARCH_PER_MINUTE: '100000000',
  RATE_LIMIT_DMS_PER_MINUTE: '100000000',
  RATE_LIMIT_SEARCH_PER_MINUTE: '100000000',
  RATE_LIMIT_INVITE_PREVIEWS_PER_MINUTE: '1000000',
  RATE_LIMIT_UPLOADS_PER_MINUTE: '1000000',
};
