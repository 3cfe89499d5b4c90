// Turns what was typed into the body of POST /api/im-apps or PUT /api/im-apps/{id}, and the API's field
// problems back into messages per field.
import { ApiError } from '../../api';
import type { EventMode, PlatformSpec } from './platforms';
import type { ImApp } from './types';

export interface FormValues {
  name: string;
  eventMode: EventMode;
  /** Every text field by its API name (settings, secrets, hosts). */
  fields: Record<string, string>;
}

export function initialValues(platform: PlatformSpec, existing?: ImApp): FormValues {
  const fields: Record<string, string> = {};
  for (const field of platform.credentials) {
    // Secrets are never sent back by the API: their fields start empty ("leave blank to keep").
    fields[field.name] = field.secret ? '' : (existing?.settings[field.name] ?? '');
  }
  for (const field of platform.callbackKeys) fields[field.name] = '';
  for (const host of platform.hosts) fields[host.name] = existing?.settings[host.name] ?? '';
  const mode = (existing?.event_mode ?? platform.defaultEventMode) as EventMode;
  return { name: existing?.name ?? '', eventMode: mode, fields };
}

export function requestBody(platform: PlatformSpec, values: FormValues, existing?: ImApp) {
  const body: Record<string, string> = {
    type: platform.type,
    name: values.name.trim(),
    event_mode: values.eventMode,
  };
  // Callback keys only count in webhook mode; an empty field is left out, which keeps a saved secret.
  const shown = [...platform.credentials, ...(values.eventMode === 'webhook' ? platform.callbackKeys : [])];
  for (const field of shown) {
    const value = values.fields[field.name]?.trim();
    if (value) body[field.name] = value;
  }
  // A host is sent only when it was changed: an unchanged one is kept, and re-sending the default would
  // count as a change of credentials (checked with the platform again).
  for (const host of platform.hosts) {
    const value = values.fields[host.name]?.trim();
    if (value && value !== (existing?.settings[host.name] ?? '')) body[host.name] = value;
  }
  return body;
}

/** Problems that belong to a field on the form, by field; the rest stay with the error. */
export function splitProblems(
  error: ApiError | undefined,
  onForm: string[],
): { byField: Record<string, string>; rest: ApiError | undefined } {
  if (!error) return { byField: {}, rest: undefined };
  const byField: Record<string, string> = {};
  const others = [];
  for (const problem of error.problems) {
    const field = problem.path.split('.')[0] ?? '';
    if (onForm.includes(field) && !byField[field]) byField[field] = problem.message;
    else others.push(problem);
  }
  // The only conflict these routes answer is a name already taken; it comes without a path.
  if (error.code === 'conflict' && error.problems.length === 0) {
    byField.name = error.message;
  }
  return { byField, rest: new ApiError(error.status, error.code, error.message, others) };
}
