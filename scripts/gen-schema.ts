// Writes docs/workflow.schema.json from the zod model, so editors and external tools validate workflows
// exactly as Signoff does. src/engine/workflow-spec.test.ts fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { workflowJsonSchema } from '../src/engine/workflow-spec.js';

const target = new URL('../docs/workflow.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(workflowJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
