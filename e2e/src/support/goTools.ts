import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../lab/paths.js';

/** The Go tools the tests run, built from the Go module proxy by e2e/tools/build-go-tool.sh. */
export type GoTool = 'helm' | 'promtool';

const ENV: Record<GoTool, string> = { helm: 'KUBERELAY_HELM', promtool: 'KUBERELAY_PROMTOOL' };
const cached = new Map<GoTool, string>();

/**
 * The tool's binary: $KUBERELAY_HELM / $KUBERELAY_PROMTOOL (./dev sets them), else the one
 * build-go-tool.sh caches, building it first when missing (minutes, with progress on stderr).
 */
export function goTool(tool: GoTool): string {
  const known = cached.get(tool);
  if (known !== undefined) return known;
  const fromEnv = process.env[ENV[tool]];
  const path =
    fromEnv !== undefined && fromEnv !== ''
      ? fromEnv
      : execFileSync('bash', [join(repoRoot, 'e2e', 'tools', 'build-go-tool.sh'), tool], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
        }).trim();
  cached.set(tool, path);
  return path;
}
