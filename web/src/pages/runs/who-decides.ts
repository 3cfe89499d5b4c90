// Who an approval is still waiting for, and whether the signed-in person may decide it in the console.
import type { Approval, Me } from './types';

/** The names of the people who still have to act (for a vendor approval: those of the step it is at). */
export function waitingFor(approval: Approval): string[] {
  if (approval.status !== 'pending') return [];
  if (approval.vendor) {
    const names = approval.vendor.nodes
      .filter((node) => node.status === 'pending')
      .flatMap((node) => node.approvers.filter((approver) => approver.decision === 'pending'))
      .map((approver) => approver.name ?? approver.id);
    if (names.length > 0) return names;
  }
  const decided = new Set(approval.decisions.map((decision) => decision.user_id));
  return approval.approvers.filter((approver) => !decided.has(approver.user_id)).map((a) => a.name);
}

/** Native approvals are decided here by their listed approvers, each once. */
export function canDecide(approval: Approval, me: Me | undefined): boolean {
  if (!me || approval.kind !== 'native' || approval.status !== 'pending') return false;
  const listed = approval.approvers.some((approver) => approver.user_id === me.id);
  const decided = approval.decisions.some((decision) => decision.user_id === me.id);
  return listed && !decided;
}
