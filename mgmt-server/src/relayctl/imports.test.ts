import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// relayctl ships beside the server but is its own program: it may use the shared contracts
// (@kuberelay/shared, where the Secret, CA bundle, rejected-agents and Lease formats live) and
// its own folder, never the server's internals. A server refactor must not change the CLI by
// accident, and the CLI must build without the server.

const here = dirname(fileURLToPath(import.meta.url));
const ALLOWED_PACKAGES = [
  '@kuberelay/shared',
  '@kuberelay/shared/kube',
  '@kuberelay/shared/pki',
  '@kubernetes/client-node',
  'diff',
  'yaml',
  'vitest',
];

/** The module specifiers of every import/export-from in `source` (static and dynamic). */
function importSpecifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(
    /(?:^|\s)(?:import|export)\s[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/gm,
  )) {
    const specifier = match[1] ?? match[2];
    if (specifier !== undefined) found.push(specifier);
  }
  return found;
}

/** Why `specifier`, imported by `file`, breaks the rule; undefined when it is allowed. */
function violation(file: string, specifier: string): string | undefined {
  if (specifier.startsWith('node:') || ALLOWED_PACKAGES.includes(specifier)) return undefined;
  if (specifier.startsWith('.')) {
    const target = relative(here, resolve(dirname(file), specifier));
    return target.startsWith('..') ? `${relative(here, file)} imports ${specifier}` : undefined;
  }
  return `${relative(here, file)} imports package ${specifier}`;
}

describe('relayctl imports', () => {
  it('finds static, re-export and dynamic imports', () => {
    expect(
      importSpecifiers(
        "import { a } from './a.js';\nimport {\n  b,\n} from '../config/b.js';\nexport * from 'x';\nawait import('y');",
      ),
    ).toEqual(['./a.js', '../config/b.js', 'x', 'y']);
  });

  it('uses only its own folder, node:, the shared contracts and its listed packages', () => {
    // This file is left out: its sample source above is text the scan would read as imports.
    const files = readdirSync(here).filter((name) => name.endsWith('.ts') && name !== 'imports.test.ts');
    expect(files.length).toBeGreaterThan(10);
    const problems = files.flatMap((name) => {
      const file = join(here, name);
      return importSpecifiers(readFileSync(file, 'utf8')).flatMap((s) => violation(file, s) ?? []);
    });
    expect(problems).toEqual([]);
  });
});
