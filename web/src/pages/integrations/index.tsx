export function IntegrationsPage() {
  return <p>IM apps: coming.</p>;
}
export function ImAppNewPage({ type }: { type: string }) {
  return <p>New {type} app: coming.</p>;
}
export function ImAppEditPage({ id }: { id: string }) {
  return <p>Edit {id}: coming.</p>;
}
