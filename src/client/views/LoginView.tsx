import { useState } from 'preact/hooks';
import { CheckboxField, FormField } from '../components/FormField.js';
import { FormAlert, useFormErrors } from '../components/form-errors.js';
import { useDocumentTitle } from '../hooks.js';
import { registerPath } from '../paths.js';
import { Link } from '../router.js';
import { logIn, signOutNotice } from '../session.js';

/** Signing in; the app then moves on to `next` (checked by the router) or the chat. */
export function LoginView({ next }: { next: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [rememberMe, setRememberMe] = useState(false);
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(['username', 'password', 'rememberMe']);
  useDocumentTitle('Log in');

  async function submit(event: Event) {
    event.preventDefault();
    const missing = { username: username ? undefined : 'Enter your username.', password: password ? undefined : 'Enter your password.' };
    if (missing.username || missing.password) return errors.reject(missing);
    errors.clear();
    setBusy(true);
    try {
      await logIn({ username, password, rememberMe });
    } catch (error) {
      errors.show(error);
      setBusy(false);
    }
  }

  return (
    <div class="container auth-page py-5">
      <h1 class="h3 mb-4" tabIndex={-1}>
        Log in
      </h1>
      {signOutNotice && (
        <div class="alert alert-warning" role="status" data-testid="signed-out-notice">
          {signOutNotice}
        </div>
      )}
      <form ref={errors.form} onSubmit={submit} noValidate>
        <FormAlert message={errors.formError} />
        <FormField
          label="Username"
          name="username"
          value={username}
          onInput={setUsername}
          error={errors.fieldErrors.username}
          autoComplete="username"
          autoFocus
        />
        <FormField
          label="Password"
          name="password"
          type="password"
          value={password}
          onInput={setPassword}
          error={errors.fieldErrors.password}
          autoComplete="current-password"
        />
        <CheckboxField
          label="Remember me"
          name="rememberMe"
          checked={rememberMe}
          onChange={setRememberMe}
          help="Stay signed in on this device after closing the browser."
        />
        <button type="submit" class="btn btn-primary w-100" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p class="mt-4 text-center">
        New here? <Link href={registerPath(next)}>Create an account</Link>
      </p>
    </div>
  );
}
