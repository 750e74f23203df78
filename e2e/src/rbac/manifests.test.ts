import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { rbacManifests } from '../deploy/rbacManifests.js';
import { repoRoot } from '../lab/paths.js';

// The RBAC in deploy/manifests is generated from shared/src/rbac; a hand edit there, or a rule
// changed without regenerating, would make what is deployed differ from what the lab tests prove.

describe('deploy/manifests RBAC', () => {
  it.each(rbacManifests().map((m) => [relative(repoRoot, m.path), m] as const))(
    '%s is what pnpm rbac:generate writes',
    (_name, { path, content }) => {
      const committed = readFileSync(path, 'utf8');
      // Objects first, for a readable diff when a rule changed; then every byte (comments too).
      expect(parseAllDocuments(committed).map((d) => d.toJS())).toEqual(
        parseAllDocuments(content).map((d) => d.toJS()),
      );
      expect(committed, 'regenerate with: pnpm build && pnpm rbac:generate').toBe(content);
    },
  );

  it('the program manifests carry no RBAC of their own', () => {
    for (const file of ['mgmt-server.yaml', 'agent.yaml']) {
      const docs = parseAllDocuments(readFileSync(`${repoRoot}/deploy/manifests/${file}`, 'utf8'));
      const kinds = docs.map((d) => (d.toJS() as { kind?: string } | null)?.kind);
      expect(
        kinds.filter((k) => k?.includes('Role')),
        file,
      ).toEqual([]);
    }
  });
});
