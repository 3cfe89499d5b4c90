// Settings → Integrations → IM: the list (/settings/im), adding an app (/settings/im/new/:type) and one
// app (/settings/im/:id).
export { ImAppEditPage } from './edit-app-page';
export { IntegrationsPage } from './im-apps-list';
export { ImAppNewPage } from './new-app-page';
