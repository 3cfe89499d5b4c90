export function ApprovalsPage() {
  return <p>Approvals: coming.</p>;
}
