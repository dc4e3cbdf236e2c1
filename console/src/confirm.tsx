import { useState } from 'preact/hooks';

/**
 * The confirmation every breaking action asks first: what it will do (or
 * break), a button that does it, and Cancel. The server's refusal, if any, is
 * shown in place.
 */
export function Confirm(props: {
  label: string;
  message: string;
  confirm: string;
  /** The button that dismisses the question; "Cancel" unless that would read as the action itself. */
  dismiss?: string;
  danger?: boolean;
  run: () => Promise<unknown>;
  onCancel: () => void;
  onDone: () => void;
}) {
  const [error, setError] = useState<string | undefined>();
  return (
    <div class="confirm" role="alertdialog" aria-label={props.label}>
      <p>{props.message}</p>
      <button class={props.danger ? 'danger' : undefined} onClick={() => props.run().then(props.onDone, (failure: Error) => setError(failure.message))}>
        {props.confirm}
      </button>{' '}
      <button class="secondary" onClick={props.onCancel}>
        {props.dismiss ?? 'Cancel'}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
