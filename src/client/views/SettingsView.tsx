/** Account settings: profile, password change, active sessions, log out. */
import { useEffect, useState } from 'preact/hooks';
import type { ActiveSession, Me } from '../../shared/protocol.js';
import * as api from '../core/api.js';
import { ApiError } from '../core/api.js';
import { FormField } from '../components/FormField.js';
import { FormAlert, useFormErrors, type FieldErrors } from '../components/form-errors.js';
import { Icon } from '../components/Icon.js';
import { NotificationsSettings } from '../components/NotificationsSettings.js';
import { formatDate } from '../format.js';
import { useDocumentTitle } from '../hooks.js';
import { logOut } from '../session.js';

export function SettingsView() {
  useDocumentTitle('Settings');
  const [logoutError, setLogoutError] = useState<string | null>(null);

  async function onLogOut() {
    try {
      await logOut();
    } catch (error) {
      setLogoutError(messageOf(error));
    }
  }

  return (
    <div class="container settings-page py-4">
      <div class="d-flex align-items-center gap-2 mb-4">
        <h1 class="h3 mb-0 me-auto" tabIndex={-1}>
          Settings
        </h1>
        <button type="button" class="btn btn-outline-danger" onClick={onLogOut}>
          <Icon name="logOut" /> Log out
        </button>
      </div>
      <FormAlert message={logoutError} />
      <AccountSection />
      <NotificationsSettings />
      <ChangePasswordSection />
      <SessionsSection />
    </div>
  );
}

function AccountSection() {
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.getMe().then(setMe, (failure: unknown) => setError(messageOf(failure)));
  }, []);
  return (
    <section class="card mb-4" aria-labelledby="account-heading">
      <div class="card-body">
        <h2 class="h5 card-title" id="account-heading">
          Account
        </h2>
        <FormAlert message={error} />
        {me && (
          <dl class="row mb-0">
            <dt class="col-sm-3">Username</dt>
            <dd class="col-sm-9">{me.username}</dd>
            <dt class="col-sm-3">Email</dt>
            <dd class="col-sm-9" data-testid="own-email">
              {me.email}
            </dd>
            <dt class="col-sm-3">Member since</dt>
            <dd class="col-sm-9 mb-0">{formatDate(me.createdAt)}</dd>
          </dl>
        )}
      </div>
    </section>
  );
}

const EMPTY_PASSWORDS = { currentPassword: '', newPassword: '', confirmPassword: '' };

function ChangePasswordSection() {
  const [values, setValues] = useState(EMPTY_PASSWORDS);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const errors = useFormErrors(['currentPassword', 'newPassword', 'confirmPassword']);

  const field = (name: keyof typeof EMPTY_PASSWORDS) => ({
    name,
    type: 'password' as const,
    value: values[name],
    onInput: (value: string) => setValues({ ...values, [name]: value }),
    error: errors.fieldErrors[name],
  });

  async function submit(event: Event) {
    event.preventDefault();
    setDone(false);
    const problems: FieldErrors = {};
    if (!values.currentPassword) problems.currentPassword = 'Enter your current password.';
    if (!values.newPassword) problems.newPassword = 'Choose a new password.';
    else if (values.confirmPassword !== values.newPassword) problems.confirmPassword = 'The passwords do not match.';
    if (Object.keys(problems).length > 0) return errors.reject(problems);
    errors.clear();
    setBusy(true);
    try {
      await api.changePassword({ currentPassword: values.currentPassword, newPassword: values.newPassword });
      setValues(EMPTY_PASSWORDS);
      setDone(true);
    } catch (error) {
      errors.show(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card mb-4" aria-labelledby="password-heading">
      <div class="card-body">
        <h2 class="h5 card-title" id="password-heading">
          Change password
        </h2>
        <form ref={errors.form} onSubmit={submit} noValidate class="password-form">
          <FormAlert message={errors.formError} />
          <div role="status">
            {done && <div class="alert alert-success">Password changed. Your other sessions have been signed out.</div>}
          </div>
          <FormField label="Current password" {...field('currentPassword')} autoComplete="current-password" />
          <FormField label="New password" {...field('newPassword')} autoComplete="new-password" />
          <FormField label="Confirm new password" {...field('confirmPassword')} autoComplete="new-password" />
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Change password
          </button>
        </form>
      </div>
    </section>
  );
}

function SessionsSection() {
  const [sessions, setSessions] = useState<readonly ActiveSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [ending, setEnding] = useState<string | null>(null);

  function load() {
    api.listSessions().then(setSessions, (failure: unknown) => setError(messageOf(failure)));
  }
  useEffect(load, []);

  async function end(session: ActiveSession) {
    setEnding(session.id);
    setError(null);
    try {
      await api.endSession(session.id);
      setSessions((current) => current?.filter((s) => s.id !== session.id) ?? null);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setEnding(null);
    }
  }

  return (
    <section class="card mb-4" aria-labelledby="sessions-heading">
      <div class="card-body">
        <h2 class="h5 card-title" id="sessions-heading">
          Active sessions
        </h2>
        <FormAlert message={error} />
        {!sessions && !error && (
          <p class="text-body-secondary" role="status">
            Loading sessions…
          </p>
        )}
        {sessions && (
          <ul class="list-group">
            {sessions.map((session) => (
              <li key={session.id} class="list-group-item d-flex flex-wrap gap-2 align-items-center" data-testid="session">
                <div class="flex-grow-1 min-width-0">
                  <div class="text-break">
                    {session.userAgent ?? 'Unknown device'}
                    {session.current && <span class="badge text-bg-success ms-2">This session</span>}
                    {session.rememberMe && <span class="badge text-bg-secondary ms-2">Remembered</span>}
                  </div>
                  <div class="small text-body-secondary">
                    {session.ip ? `${session.ip} · ` : ''}signed in {formatDate(session.createdAt)} · last active{' '}
                    {formatDate(session.lastSeenAt)} · expires {formatDate(session.expiresAt)}
                  </div>
                </div>
                {!session.current && (
                  <button
                    type="button"
                    class="btn btn-outline-danger btn-sm"
                    disabled={ending !== null}
                    onClick={() => end(session)}
                  >
                    End session
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : 'Something went wrong. Try again.';
}
