/** Labelled form controls with Bootstrap validation styling wired to error messages. */
import type { TargetedEvent } from 'preact';
import { useId } from 'preact/hooks';

interface FieldProps {
  label: string;
  /** The API field name, so errors with `field` land here and tests can find it. */
  name: string;
  value: string;
  onInput: (value: string) => void;
  error?: string | undefined;
  help?: string;
  type?: 'text' | 'email' | 'password' | 'search';
  autoComplete?: string;
  maxLength?: number;
  multiline?: boolean;
  autoFocus?: boolean;
}

export function FormField({ label, name, value, onInput, error, help, type = 'text', multiline, ...rest }: FieldProps) {
  const id = useId();
  const helpId = help ? `${id}-help` : '';
  const errorId = error ? `${id}-error` : '';
  const controlProps = {
    id,
    name,
    value,
    class: `form-control${error ? ' is-invalid' : ''}`,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': [helpId, errorId].filter(Boolean).join(' ') || undefined,
    maxLength: rest.maxLength,
    'data-autofocus': rest.autoFocus ? '' : undefined,
    onInput: (event: TargetedEvent<HTMLInputElement | HTMLTextAreaElement>) => onInput(event.currentTarget.value),
  };
  return (
    <div class="mb-3">
      <label class="form-label" for={id}>
        {label}
      </label>
      {multiline ? (
        <textarea {...controlProps} rows={3} />
      ) : (
        // Preact types input attributes per `type`; these text-like types all take the same ones.
        <input {...controlProps} type={type as 'text'} autoComplete={rest.autoComplete} />
      )}
      {help && (
        <div id={helpId} class="form-text">
          {help}
        </div>
      )}
      {error && (
        <div id={errorId} class="invalid-feedback">
          {error}
        </div>
      )}
    </div>
  );
}

interface CheckboxProps {
  label: string;
  name: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  help?: string;
  switch?: boolean;
}

export function CheckboxField({ label, name, checked, onChange, help, switch: isSwitch }: CheckboxProps) {
  const id = useId();
  return (
    <div class={`form-check mb-3${isSwitch ? ' form-switch' : ''}`}>
      <input
        id={id}
        name={name}
        type="checkbox"
        role={isSwitch ? 'switch' : undefined}
        class="form-check-input"
        checked={checked}
        aria-describedby={help ? `${id}-help` : undefined}
        onChange={(event) => onChange(event.currentTarget.checked)}
      />
      <label class="form-check-label" for={id}>
        {label}
      </label>
      {help && (
        <div id={`${id}-help`} class="form-text">
          {help}
        </div>
      )}
    </div>
  );
}
