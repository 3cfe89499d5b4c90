// The runs area: the list of runs (/runs) and one run, live (/runs/:id).
export { RunPage } from './run-page';
export { RunsPage } from './runs-list';
