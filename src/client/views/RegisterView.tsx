import { useState } from 'preact/hooks';
import { FormField } from '../components/FormField.js';
import { FormAlert, useFormErrors, type FieldErrors } from '../components/form-errors.js';
import { useDocumentTitle } from '../hooks.js';
import { loginPath } from '../paths.js';
import { Link, navigate } from '../router.js';
import * as api from '../core/api.js';
import { logIn } from '../session.js';
import { normaliseName, usernameProblem } from '../../shared/names.js';

const FIELDS = ['username', 'email', 'password', 'confirmPassword'] as const;

/** Creating an account, then signing in with it straight away (the app then moves on to `next`). */
export function RegisterView({ next }: { next: string | null }) {
  const [values, setValues] = useState({ username: '', email: '', password: '', confirmPassword: '' });
  const [busy, setBusy] = useState(false);
  const errors = useFormErrors(FIELDS);
  useDocumentTitle('Create an account');

  const field = (name: (typeof FIELDS)[number]) => ({
    name,
    value: values[name],
    onInput: (value: string) => setValues({ ...values, [name]: value }),
    error: errors.fieldErrors[name],
  });

  async function submit(event: Event) {
    event.preventDefault();
    const problems: FieldErrors = {};
    const usernameInvalid = usernameProblem(normaliseName(values.username));
    if (!values.username.trim()) problems.username = 'Choose a username.';
    else if (usernameInvalid) problems.username = usernameInvalid;
    if (!values.email.trim()) problems.email = 'Enter your email address.';
    if (!values.password) problems.password = 'Choose a password.';
    else if (values.confirmPassword !== values.password) problems.confirmPassword = 'The passwords do not match.';
    if (Object.keys(problems).length > 0) return errors.reject(problems);
    errors.clear();
    setBusy(true);
    const username = values.username.trim();
    try {
      await api.register({ ...values, username, email: values.email.trim() });
    } catch (error) {
      errors.show(error);
      setBusy(false);
      return;
    }
    try {
      await logIn({ username, password: values.password, rememberMe: false });
    } catch {
      // The account exists; a failed automatic login (e.g. rate limited) is retried by hand.
      navigate(loginPath(next));
    }
  }

  return (
    <div class="container auth-page py-5">
      <h1 class="h3 mb-4" tabIndex={-1}>
        Create an account
      </h1>
      <form ref={errors.form} onSubmit={submit} noValidate>
        <FormAlert message={errors.formError} />
        <FormField
          label="Username"
          {...field('username')}
          autoComplete="username"
          help="3–32 characters: letters, digits, underscore, dot or dash."
          autoFocus
        />
        <FormField label="Email" type="email" {...field('email')} autoComplete="email" />
        <FormField label="Password" type="password" {...field('password')} autoComplete="new-password" />
        <FormField label="Confirm password" type="password" {...field('confirmPassword')} autoComplete="new-password" />
        <button type="submit" class="btn btn-primary w-100" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account'}
        </button>
      </form>
      <p class="mt-4 text-center">
        Already have an account? <Link href={loginPath(next)}>Log in</Link>
      </p>
    </div>
  );
}
