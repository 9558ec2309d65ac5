/** Showing API errors in forms: next to the field they name, else in an alert on top. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../core/api.js';

export type FieldErrors = Partial<Record<string, string>>;

export function useFormErrors(fields: readonly string[]) {
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);

  // Move keyboard users to the first problem; the alert announces itself (role=alert).
  useEffect(() => {
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [fieldErrors]);

  return {
    form,
    fieldErrors,
    formError,
    clear() {
      setFieldErrors({});
      setFormError(null);
    },
    /** Field errors found by the client before sending. */
    reject(errors: FieldErrors) {
      setFieldErrors(errors);
      setFormError(null);
    },
    show(error: unknown) {
      if (error instanceof ApiError && error.field && fields.includes(error.field)) {
        setFieldErrors({ [error.field]: error.message });
        setFormError(null);
      } else {
        setFieldErrors({});
        setFormError(error instanceof ApiError ? error.message : 'Something went wrong. Try again.');
      }
    },
  };
}

export function FormAlert({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div class="alert alert-danger" role="alert">
      {message}
    </div>
  );
}
