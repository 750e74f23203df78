import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { goTool } from '../support/goTools.js';
import { RULE_FILES } from './shippedQueries.js';

// The shipped alerting rules through Prometheus's own promtool (built from the Go module proxy):
// `check rules` (syntax, templates, duplicate names), then the unit tests in alerts.promtool.yaml
// on the rules as shipped minus their annotations (see that file's header).

const run = promisify(execFile);
const promtool = (args: readonly string[], cwd?: string) =>
  run(goTool('promtool'), [...args], { cwd, encoding: 'utf8' }).catch(
    (e: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    },
  );

describe('the alerting rules the chart ships, through promtool', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await promtool(['check', 'rules', ...Object.values(RULE_FILES)]);
    expect(stdout).toMatch(/SUCCESS: 10 rules found[\s\S]*SUCCESS: 5 rules found/);
  }, 600_000);

  it('fire when they should and not otherwise (promtool test rules)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kuberelay-promtool-'));
    for (const [part, file] of Object.entries(RULE_FILES)) {
      const rules = parse(await readFile(file, 'utf8')) as { groups: { rules: Record<string, unknown>[] }[] };
      for (const group of rules.groups) for (const rule of group.rules) delete rule.annotations;
      await writeFile(join(dir, `rules-${part}.yaml`), stringify(rules));
    }
    await copyFile(join(import.meta.dirname, 'alerts.promtool.yaml'), join(dir, 'alerts.promtool.yaml'));
    const { stdout } = await promtool(['test', 'rules', 'alerts.promtool.yaml'], dir);
    expect(stdout).toContain('SUCCESS');
  }, 600_000);
});
