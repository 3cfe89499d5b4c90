// What the IM-app routes answer (src/api/im-app-schemas.ts: imAppSchema, testResultSchema).
import type { Platform } from '../../components/platform-icon';

export type CredentialsState = 'ok' | 'failed' | 'unchecked';
export type CallbackState = 'verified' | 'waiting' | 'not_configured' | 'not_used';

export interface ImApp {
  id: string;
  type: Platform;
  name: string;
  event_mode: string;
  sandbox: boolean;
  callback_url: string;
  /** Identifiers and API hosts; the hosts are filled with the platform's defaults. */
  settings: Record<string, string>;
  /** Every secret field: "********" when set, null when not (the value itself is never sent). */
  secrets: Record<string, string | null>;
  status: {
    credentials: CredentialsState;
    last_check_at: string | null;
    last_check_error: string | null;
    last_event_at: string | null;
    callback: CallbackState;
    callback_hint: string | null;
  };
  created_at: string;
  updated_at: string;
}

export interface TestResult {
  ok: boolean;
  error: { code: string; message: string } | null;
  missing_permissions: string[];
  checked: string[];
}

export const sandboxAppId = (type: Platform) => `ima_sandbox_${type}`;
