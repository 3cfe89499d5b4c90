// What the workflow, IM app and user endpoints answer (src/api/schemas.ts, src/api/im-app-schemas.ts), as
// the workflow pages read them.
import type { Platform } from '../../components/platform-icon';

export interface WorkflowParam {
  name: string;
  default: string | null;
  required: boolean;
  description: string | null;
}

export interface WorkflowSummary {
  name: string;
  description: string | null;
  version: number;
  stages: { name: string; jobs: { name: string; type: string }[] }[];
  params: WorkflowParam[];
  created_at: string;
  updated_at: string;
}

export interface Workflow extends WorkflowSummary {
  /** The document as it was saved (YAML or JSON). */
  source: string;
}

export interface ImApp {
  id: string;
  type: Platform;
  name: string;
}

/** A person in an IM app's address book (`ImUser`). */
export interface ImUser {
  id: string;
  id_type: 'open_id' | 'userid';
  name: string;
  avatar: string | null;
}

export interface ImDepartment {
  id: string;
  name: string;
  parent_id: string | null;
  member_count?: number | null;
}

export interface DepartmentListing {
  department: ImDepartment;
  departments: ImDepartment[];
  users: ImUser[];
}

export interface ImChat {
  id: string;
  name: string;
  avatar?: string | null;
}

/** A Signoff user (`GET /api/users`): the approvers of native approvals. */
export interface SignoffUser {
  id: string;
  name: string;
  email: string | null;
}

/** Someone chosen in the approver picker: a vendor user id (or a Signoff user name for native approvals). */
export interface PickedPerson {
  id: string;
  name: string;
  avatar: string | null;
}
