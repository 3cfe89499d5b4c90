// A destructive action (cancel a run, delete an app) asked once more in a modal dialog. The safe choice
// comes first, so the opened dialog focuses it and Enter does not act by accident; a refusal from the API
// is shown in the dialog as it is (it says why, e.g. which workflows still use an app).
import { type ReactNode, useId, useRef, useState } from 'react';
import { ApiError } from '../api';
import { ErrorNotice } from './error-notice';

export interface ConfirmActionProps {
  /** The button that opens the dialog. */
  label: string;
  question: string;
  explain: ReactNode;
  confirm: string;
  keep: string;
  busy: string;
  /** Title of the error shown when the action is refused. */
  refused?: string;
  action: () => Promise<unknown>;
  onDone: () => void;
}

export function ConfirmAction(props: ConfirmActionProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();

  const open = () => {
    setError(undefined);
    dialog.current?.showModal();
  };
  const act = async () => {
    setBusy(true);
    try {
      await props.action();
      dialog.current?.close();
      props.onDone();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" className="button-danger" onClick={open}>
        {props.label}
      </button>
      <dialog ref={dialog} className="confirm-dialog" aria-labelledby={titleId}>
        <h2 id={titleId}>{props.question}</h2>
        <p>{props.explain}</p>
        <ErrorNotice error={error} {...(props.refused ? { title: props.refused } : {})} />
        <div className="confirm-dialog-actions">
          <button type="button" onClick={() => dialog.current?.close()}>
            {props.keep}
          </button>
          <button type="button" className="button-danger" onClick={act} disabled={busy}>
            {busy ? props.busy : props.confirm}
          </button>
        </div>
      </dialog>
    </>
  );
}
