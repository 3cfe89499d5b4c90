export function WorkflowsPage() {
  return <p>Workflows: coming.</p>;
}
export function WorkflowEditorPage({ name }: { name?: string }) {
  return <p>Workflow {name ?? 'new'}: coming.</p>;
}
