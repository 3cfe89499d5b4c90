// What the console knows about one IM platform: the fields it issues, where its console shows them, how
// its events can reach Signoff, the permissions its app needs and the steps to paste the callback URL.
// The fields mirror src/providers/im-app-fields.ts and src/api/im-app-schemas.ts (the console only
// talks to the API, so it keeps its own copy); the texts follow docs/integrations/<vendor>.md.
import type { Platform } from '../../../components/platform-icon';
import type { Dictionary } from '../../../i18n';

export type EventMode = 'webhook' | 'long_connection' | 'stream' | 'poll';

export interface FieldSpec {
  /** The API field. */
  name: string;
  /** As the vendor console labels it (not translated: it is what the operator looks for there). */
  label: string;
  /** Secrets are write-only: never shown again once saved. */
  secret: boolean;
  /** Needed to save at all; the callback keys are needed only in webhook mode (see `CallbackKey`). */
  required: boolean;
  /** Key of the help text in the platform's strings: where in the vendor console to find the value. */
  help: string;
  placeholder?: string;
  numeric?: boolean;
}

export interface CallbackKey extends FieldSpec {
  /** Refused without it in webhook mode (WeCom's keys come later, so they never are). */
  requiredForWebhook: boolean;
}

export interface HostField {
  name: 'api_base' | 'oapi_base';
  defaultValue: string;
  help: string;
}

/** One list of permissions, e.g. "Approvals": scope names exactly as the console shows them, or settings. */
export interface PermissionGroup {
  title: string;
  scopes?: string[];
  /** Keys of sentences, for platforms whose console names no scopes (WeCom). */
  items?: string[];
}

export interface PlatformSpec {
  type: Platform;
  /** The platform's own texts, in both languages; the keys below name them. `vendor` is its short name
   * inside sentences ("Feishu" / "飞书"). */
  strings: Dictionary<Record<string, string>>;
  /** Shown always, in the console's order. */
  credentials: FieldSpec[];
  /** Shown in webhook mode: what the platform signs and encrypts its callbacks with. */
  callbackKeys: CallbackKey[];
  eventModes: EventMode[];
  defaultEventMode: EventMode;
  /** "App ID + App Secret": what poll mode needs, in the vendor's words. */
  minimumCredentials: string;
  hosts: HostField[];
  /** Where the permissions are granted, then the lists. */
  permissionsWhere: string;
  permissions: PermissionGroup[];
  /** Keys of the numbered steps to paste the callback URL (or connect), per event mode; none for poll. */
  setupSteps: Partial<Record<EventMode, string[]>>;
  /** Key of an extra line under one event mode's explanation (Lark's long connection). */
  eventModeNotes?: Partial<Record<EventMode, string>>;
}
