// Regenerates schemas/realm-policy.schema.json from the one TypeBox definition (a test checks it is current).
import { writeFileSync } from 'node:fs';
import { realmPolicyJsonSchema } from '../src/core/realm/policy.ts';

writeFileSync(
  new URL('../schemas/realm-policy.schema.json', import.meta.url),
  `${JSON.stringify(realmPolicyJsonSchema(), null, 2)}\n`,
);
