// The workflows area: the list (/workflows) and the editor (/workflows/new, /workflows/:name).
import './workflows.css';

export { WorkflowEditorPage } from './workflow-editor';
export { WorkflowsPage } from './workflows-list';
