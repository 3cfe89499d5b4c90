export function RunsPage() {
  return <p>Runs: coming.</p>;
}
export function RunPage({ id }: { id: string }) {
  return <p>Run {id}: coming.</p>;
}
