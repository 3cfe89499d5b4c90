// What the engine asks of a platform's own approval app (Feishu/Lark 审批, DingTalk OA 审批, WeCom 审批).
// One implementation per platform in `<vendor>/approvals.ts`. The engine never reads a vendor payload:
// it provisions a definition, creates an instance, and from then on only ever asks for the instance's
// whole state (`instance`), whatever told it to look (a callback, a long-connection event, a poll). That
// makes duplicate, late and out-of-order events harmless: they only cause another look.
import type { ImEvent, ImUser } from './types.js';

export type NodeType = 'AND' | 'OR';

/**
 * The shape of a definition: what the vendor needs fixed in advance. Instances of one shape share one
 * definition (Feishu approval code, DingTalk process code, WeCom template id), cached by `key`.
 */
export interface ApprovalShape {
  /** Stable text key of the shape, e.g. `AND-OR` or `AND-OR+cc`; part of the cache key and the vendor name. */
  key: string;
  /** Shown as the definition's name in the vendor's approval app, e.g. `Signoff 审批 (AND-OR)`. */
  name: string;
  nodes: NodeType[];
  cc: boolean;
}

export interface NewInstance {
  /** Definition code from `createDefinition`. */
  definition: string;
  /**
   * Ours, unique per approval job run (at most 64 characters, [A-Za-z0-9-]). Sent as the vendor's
   * idempotency field where it has one (Feishu `uuid`) and written into the form text everywhere, so that
   * `findInstance` can recognise an instance created before a crash.
   */
  key: string;
  /** Vendor user id of the person who starts the instance. */
  initiator: string;
  title: string;
  /** Plain text shown in the form (the description and a link to the run). */
  content: string;
  /** Run link, where the vendor's form can hold one. */
  link: string;
  nodes: Array<{ type: NodeType; approvers: string[] }>;
  cc: string[];
}

export type InstanceStatus = 'pending' | 'approved' | 'rejected' | 'cancelled';

export interface ApproverState {
  /** Vendor user id. */
  id: string;
  name?: string | undefined;
  avatar?: string | null | undefined;
  decision: 'pending' | 'approved' | 'rejected' | 'transferred' | 'waiting';
  comment?: string | undefined;
  /** ISO 8601. */
  decided_at?: string | undefined;
}

export interface InstanceState {
  status: InstanceStatus;
  /** The vendor's own status word, e.g. `CANCELED`, `TERMINATED`, `4`. */
  vendor_status: string;
  /** Why it ended, in words, for cancelled ones (e.g. "withdrawn by the initiator in WeCom (SpStatus 4)"). */
  reason?: string | undefined;
  /** Per node, in order; approvers the vendor added (transfer, redirect) appear in their node. */
  nodes: Array<{
    type: NodeType;
    status: 'pending' | 'approved' | 'rejected' | 'waiting';
    approvers: ApproverState[];
  }>;
  /** A link that opens the instance in the vendor's app, where the vendor gives one. */
  link?: string | undefined;
}

export interface VendorApprovals {
  /** Creates the definition for a shape and, where the vendor needs it (Feishu), subscribes to its events. */
  createDefinition(shape: ApprovalShape): Promise<string>;
  /** False when the vendor says the definition is gone (deleted in its console). */
  definitionExists(code: string): Promise<boolean>;
  /** Returns the vendor instance id. Throws AppError; a definition that is gone throws code `definition_gone`. */
  createInstance(instance: NewInstance): Promise<{ id: string; link?: string | undefined }>;
  /**
   * After a crash between "created at the vendor" and "recorded here": the instance created with this key,
   * if there is one. `since` bounds the search (the time of the first attempt).
   */
  findInstance(instance: NewInstance, since: Date): Promise<string | undefined>;
  instance(id: string): Promise<InstanceState>;
  /** Withdraws the instance at the vendor; `unsupported` where the vendor has no API for it (WeCom). */
  revoke(id: string, instance: { initiator: string; definition: string }): Promise<'revoked' | 'unsupported'>;
  /** A short message to people through the same app (Feishu/Lark bot message, DingTalk work notification, WeCom app message). */
  remind(userIds: string[], text: string, link: string): Promise<void>;
  /** The vendor instance id an event is about, if it is an approval event. */
  instanceOfEvent(event: ImEvent): string | undefined;
  /** Maps a person given by email or mobile to the vendor's user (id used by the approval APIs). */
  findUser(by: { email?: string; mobile?: string; id?: string }): Promise<ImUser | undefined>;
}
