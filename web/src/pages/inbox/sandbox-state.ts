// The sandbox's own JSON (src/sandbox/sandbox.ts): not under /api and without a token, so it is read with
// `fetch` directly. Shapes as the server sends them.
import { ApiError } from '../../api';

export type SandboxType = 'feishu' | 'lark' | 'dingtalk' | 'wecom';

export interface SandboxPerson {
  id: string;
  name: string;
  email?: string;
  mobile?: string;
  avatar?: string;
}

export interface SandboxApproval {
  id: string;
  title: string;
  /** The form's text, as the approvers read it in the vendor's approval app. */
  form: string;
  status: string;
  /** People who may act now. */
  waiting_for: SandboxPerson[];
  created_at: string;
}

export interface SandboxMessage {
  id: string;
  via: 'chat' | 'people' | 'robot';
  /** A chat id, the people's ids (", "-separated), or "robot <token>" / "custom bot <hook id>". */
  to: string;
  kind: string;
  /** What the fake received, as a JSON string. */
  content: string;
  at: string;
  updated_at?: string;
}

export interface SandboxRobot {
  url: string;
  secret?: string;
  chat?: string;
}

export interface SandboxVendorState {
  type: SandboxType;
  label: string;
  im_app: { id: string; name: string };
  people: SandboxPerson[];
  chats: { id: string; name: string }[];
  pending_approvals: SandboxApproval[];
  messages: SandboxMessage[];
  developer_console: {
    api_base: string;
    credentials: Record<string, string>;
    robots: SandboxRobot[];
  };
}

export interface SandboxState {
  vendors: SandboxVendorState[];
}

export async function loadSandboxState(signal: AbortSignal): Promise<SandboxState> {
  const response = await fetch('/sandbox/state', { signal, headers: { accept: 'application/json' } });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as SandboxState;
}

export interface Decision {
  vendor: SandboxType;
  approval: string;
  person: string;
  decision: 'approve' | 'reject';
  comment: string;
}

/** A fake person decides in the fake's approval app; the fake then calls Signoff back as the vendor does. */
export async function decide(decision: Decision): Promise<void> {
  const response = await fetch('/sandbox/decide', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...decision }).toString(),
  });
  if (!response.ok) throw await errorOf(response);
}

async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined;
  return new ApiError(
    response.status,
    body?.error?.code ?? `http_${response.status}`,
    body?.error?.message ??
      (response.status === 404
        ? 'The sandbox is off on this server (SIGNOFF_SANDBOX=false).'
        : `The sandbox answered ${response.status} ${response.statusText}.`),
  );
}

/** Finds a fake person by any id a message may use (open_id / userid, email or mobile). */
export function personFinder(people: SandboxPerson[]): (id: string) => SandboxPerson | undefined {
  const byKey = new Map<string, SandboxPerson>();
  for (const person of people) {
    for (const key of [person.id, person.email, person.mobile]) if (key) byKey.set(key, person);
  }
  return (id) => byKey.get(id);
}
