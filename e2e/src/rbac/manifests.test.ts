import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { chartDir } from '../deploy/chartValues.js';
import { rbacManifests } from '../deploy/rbacManifests.js';
import { repoRoot } from '../lab/paths.js';

// The chart's RBAC templates are generated from shared/src/rbac; a hand edit there, or a rule
// changed without regenerating, would make what is installed differ from what the lab tests prove.

/** The YAML inside a generated template: without its {{- if }} ... {{- end }} lines, one namespace. */
const yamlOf = (template: string) =>
  parseAllDocuments(
    template
      .split('\n')
      .filter((line) => !line.startsWith('{{-'))
      .join('\n')
      .replaceAll('{{ .Release.Namespace }}', 'release-namespace'),
  ).map((d) => d.toJS());

describe('the chart RBAC', () => {
  it.each(rbacManifests().map((m) => [relative(repoRoot, m.path), m] as const))(
    '%s is what pnpm rbac:generate writes',
    (_name, { path, content }) => {
      const committed = readFileSync(path, 'utf8');
      // Objects first, for a readable diff when a rule changed; then every byte (comments too).
      expect(yamlOf(committed)).toEqual(yamlOf(content));
      expect(committed, 'regenerate with: pnpm build && pnpm rbac:generate').toBe(content);
    },
  );

  it('no other template of the chart grants anything', () => {
    const generated = new Set(rbacManifests().map((m) => m.path));
    const templates = join(chartDir, 'templates');
    for (const file of readdirSync(templates)) {
      const path = join(templates, file);
      if (generated.has(path)) continue;
      expect(readFileSync(path, 'utf8'), file).not.toMatch(/^kind:\s*(Cluster)?Role(Binding)?\s*$/m);
    }
  });
});
