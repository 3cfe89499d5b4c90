export function InboxPage() {
  return <p>Sandbox inbox: coming.</p>;
}
