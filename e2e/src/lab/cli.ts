import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  attachLab,
  DEFAULT_CLUSTERS,
  DEFAULT_GATEWAY_API_VERSION,
  type ProcessStatus,
  startLab,
  stopLabDir,
} from './lab.js';
import { defaultLabDir } from './paths.js';

const usage = `Usage: pnpm lab <command> [options]

A local lab of real Kubernetes API servers (an etcd and a kube-apiserver per cluster, no nodes).

Commands:
  up       start the lab (stops and replaces a lab left in .lab/); prints the kubeconfig path
  down     stop every lab process; logs and data stay in .lab/ until the next "up"
  status   show each cluster's processes, API server address and Gateway API release

Options:
  --clusters a,b,c   cluster names for "up" (default: ${DEFAULT_CLUSTERS.join(',')})
  --gateway-api V    Gateway API release of the CRDs for "up": V for every cluster, or per
                     cluster as c1=V1,c2=V2 (others get ${DEFAULT_GATEWAY_API_VERSION}); a release not
                     cached yet is fetched through the Go module proxy. Example:
                     --gateway-api cluster-2=v1.1.0
  --dir DIR          lab folder (default: .lab at the repo root)
  -h, --help         this help

Then: kubectl --kubeconfig .lab/kubeconfig --context cluster-1 get namespaces`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      clusters: { type: 'string' },
      'gateway-api': { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const dir = values.dir ?? defaultLabDir;
  switch (command) {
    case 'up': {
      const clusters = values.clusters
        ?.split(',')
        .map((c) => c.trim())
        .filter(Boolean);
      const names = clusters ?? DEFAULT_CLUSTERS;
      const gatewayApi = values['gateway-api'];
      const lab = await startLab({
        dir,
        lifetime: 'detached',
        ...(clusters ? { clusters } : {}),
        ...(gatewayApi ? { gatewayApiVersions: parseGatewayApiFlag(gatewayApi, names) } : {}),
        onProgress: (m) => console.log(`lab: ${m}`),
      });
      const example = lab.clusterNames[1] ?? lab.clusterNames[0];
      console.log(`\nkubeconfig: ${lab.kubeconfigPath}`);
      console.log(`contexts:   ${lab.clusterNames.join(', ')}`);
      console.log(
        `try:        kubectl --kubeconfig ${lab.kubeconfigPath} --context ${example} get namespaces`,
      );
      return 0;
    }
    case 'down': {
      const stopped = await stopLabDir(dir);
      console.log(stopped > 0 ? `lab: stopped ${stopped} process(es)` : 'lab: nothing was running');
      return 0;
    }
    case 'status': {
      if (!existsSync(join(dir, 'lab.json'))) {
        console.log(`lab: no lab in ${dir} (start one with: pnpm lab up)`);
        return 1;
      }
      const rows = attachLab(dir).status();
      const show = (p: ProcessStatus) => (p.running ? `running, ${p.rssMiB ?? '?'} MiB` : 'stopped');
      printTable([
        ['CLUSTER', 'SERVER', 'GATEWAY-API', 'ETCD', 'KUBE-APISERVER'],
        ...rows.map((r) => [
          r.cluster,
          r.server,
          r.gatewayApiVersion ?? 'none',
          show(r.etcd),
          show(r.apiserver),
        ]),
      ]);
      console.log(`\nkubeconfig: ${join(dir, 'kubeconfig')}`);
      return rows.every((r) => r.etcd.running && r.apiserver.running) ? 0 : 1;
    }
    default:
      console.error(`lab: unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

/** `--gateway-api v1.1.0` (every cluster) or `--gateway-api cluster-2=v1.1.0,cluster-1=v1.2.1`. */
function parseGatewayApiFlag(value: string, clusters: readonly string[]): Record<string, string> {
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 1 && entries[0] && !entries[0].includes('=')) {
    const version = entries[0];
    return Object.fromEntries(clusters.map((c) => [c, version]));
  }
  const versions: Record<string, string> = {};
  for (const entry of entries) {
    const [cluster, version, ...rest] = entry.split('=');
    if (!cluster || !version || rest.length > 0) {
      throw new Error(`--gateway-api: "${entry}" is not CLUSTER=VERSION (e.g. cluster-2=v1.1.0)`);
    }
    versions[cluster] = version;
  }
  return versions;
}

function printTable(rows: readonly (readonly string[])[]): void {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0)) + 2);
  for (const row of rows)
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('')
        .trimEnd(),
    );
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`lab: error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
