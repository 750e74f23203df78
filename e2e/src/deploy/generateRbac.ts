import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../lab/paths.js';
import { rbacManifests } from './rbacManifests.js';

const usage = `Usage: pnpm rbac:generate [--check]

Writes the Helm chart's deploy/charts/kuberelay/templates/rbac-{mgmt-server,agent}.yaml from
shared/src/rbac (serverRbac, agentRbac) for the default kinds, in the release namespace.

Options:
  --check      write nothing; exit 1 if a committed file differs from what would be written
  -h, --help   this help`;

function main(): number {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let stale = 0;
  for (const { path, content } of rbacManifests()) {
    const name = relative(repoRoot, path);
    let current: string | undefined;
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) {
      process.stdout.write(`${name}: up to date\n`);
    } else if (values.check) {
      stale++;
      process.stderr.write(`${name}: differs from what the generator produces; run pnpm rbac:generate\n`);
    } else {
      writeFileSync(path, content);
      process.stdout.write(`${name}: written\n`);
    }
  }
  return stale === 0 ? 0 : 1;
}

process.exitCode = main();
