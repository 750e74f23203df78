import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContentType, isNotFound, KubeRest } from '@kuberelay/shared/kube';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { attachLab, type Lab } from '../lab/lab.js';
import { repoRoot } from '../lab/paths.js';
import { unique } from '../support/testing.js';
import { CHART_ARGS, chartDir, shippedNodeOptions } from './chartValues.js';
import { HelmError, helm, pick, type Rendered, release, renderChart } from './helm.js';

// The Helm chart (deploy/charts/kuberelay), proven with a real helm on the lab's real API servers:
// lint, what it renders for default and non-default values, that a typo or a bad value fails the
// install with its name, that every rendered object passes the API server's strict validation
// (the ServiceMonitor and PrometheusRule against the prometheus-operator's own CRDs), and a real
// install and upgrade of both parts. The lab has no kubelet, so no pod runs here; the processes
// the chart describes run in chartProcesses.test.ts.

const { server: SERVER, agent: AGENT, monitoring: ALL_MONITORING } = CHART_ARGS;

interface Container {
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  resources: { limits?: Record<string, string> };
}
interface DeploymentSpec {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        containers: Container[];
        nodeSelector?: Record<string, string>;
        tolerations?: unknown[];
        affinity?: {
          podAntiAffinity?: Record<
            string,
            {
              podAffinityTerm?: {
                topologyKey: string;
                labelSelector: { matchLabels: Record<string, string> };
              };
            }[]
          >;
        };
      };
    };
  };
}
type Deployment = Rendered & DeploymentSpec;
const container = (d: Deployment) => {
  const c = d.spec.template.spec.containers[0];
  if (c === undefined) throw new Error(`${d.metadata.name} has no container`);
  return c;
};
const envOf = (d: Deployment, name: string) => container(d).env.find((e) => e.name === name);

/** What `helm template` says when it refuses: the message, for asserting on. */
async function refusal(args: readonly string[]): Promise<string> {
  try {
    await renderChart({ namespace: 'gloo-mesh', args });
  } catch (error) {
    if (error instanceof HelmError) return error.stderr;
    throw error;
  }
  throw new Error(`helm template ${args.join(' ')} rendered, but should have refused`);
}

const PLURALS: Record<string, { plural: string; namespaced: boolean }> = {
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  ConfigMap: { plural: 'configmaps', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  PodDisruptionBudget: { plural: 'poddisruptionbudgets', namespaced: true },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  ServiceMonitor: { plural: 'servicemonitors', namespaced: true },
  PrometheusRule: { plural: 'prometheusrules', namespaced: true },
};

/** A strict server-side apply in dry-run mode: the API server validates, nothing is stored. */
async function dryRun(rest: KubeRest, object: Rendered): Promise<unknown> {
  const kind = PLURALS[object.kind];
  if (kind === undefined) throw new Error(`the test knows no plural for ${object.kind}; add it`);
  const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
  const scope = kind.namespaced ? `/namespaces/${object.metadata.namespace ?? ''}` : '';
  return rest.request({
    method: 'PATCH',
    path: `${base}${scope}/${kind.plural}/${object.metadata.name}`,
    query: { dryRun: 'All', fieldValidation: 'Strict', fieldManager: 'kuberelay-e2e', force: 'true' },
    contentType: ContentType.apply,
    body: object,
  });
}

let lab: Lab;
beforeAll(async () => {
  lab = attachLab(inject('labDir'));
  // The prometheus-operator's real CRDs, so the chart's monitoring objects meet their schemas.
  const dir = execFileSync('bash', [join(repoRoot, 'e2e', 'tools', 'fetch-prometheus-operator-crds.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const rest = new KubeRest(lab.kubeConfig('mgmt'));
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as Rendered;
    await rest.request({
      method: 'PATCH',
      path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      query: { fieldManager: 'kuberelay-e2e', force: 'true' },
      contentType: ContentType.apply,
      body: crd,
    });
  }
}, 600_000);

describe('helm lint and the chart metadata', () => {
  it('lints clean for the server and for the agent', async () => {
    for (const args of [SERVER, AGENT, [...SERVER, ...AGENT, ...ALL_MONITORING]]) {
      const out = await helm(['lint', chartDir, '--strict', ...args]);
      expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  }, 120_000);

  it("has the product's version", () => {
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as {
      version: string;
      appVersion: string;
    };
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'mgmt-server', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect([chart.version, chart.appVersion]).toEqual([pkg.version, pkg.version]);
  });
});

describe('what the chart renders', () => {
  it('by default, for the server: two replicas a disruption takes one at a time, spread over nodes', async () => {
    const objects = await renderChart({ namespace: 'relay-ns', args: SERVER });
    const deployment = pick<DeploymentSpec>(objects, 'Deployment', 'kuberelay-mgmt-server');
    const pdb = pick<{ spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }>(
      objects,
      'PodDisruptionBudget',
      'kuberelay-mgmt-server',
    );
    expect(deployment.spec.replicas).toBe(2);
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    const terms =
      deployment.spec.template.spec.affinity?.podAntiAffinity
        ?.preferredDuringSchedulingIgnoredDuringExecution;
    expect(terms?.map((t) => t.podAffinityTerm?.topologyKey)).toEqual(['kubernetes.io/hostname']);
    expect(deployment.spec.template.metadata.labels).toMatchObject(
      terms?.[0]?.podAffinityTerm?.labelSelector.matchLabels ?? { none: 'x' },
    );
    const c = container(deployment);
    expect(c.command).toEqual(['kuberelay-mgmt-server']);
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--cluster-name=mgmt',
        '--namespace=relay-ns',
        '--feature-gates=ConfigDistribution=true',
      ]),
    );
    expect(envOf(deployment, 'NODE_OPTIONS')?.value).toBe(shippedNodeOptions('mgmtServer').NODE_OPTIONS);
    expect(envOf(deployment, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=384');
    expect(
      Object.fromEntries(
        ['POD_NAME', 'POD_NAMESPACE', 'POD_IP'].map((n) => [
          n,
          envOf(deployment, n)?.valueFrom?.fieldRef?.fieldPath,
        ]),
      ),
    ).toEqual({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', POD_IP: 'status.podIP' });
    // Every object in the release namespace, bound to the ServiceAccount the Deployment runs as.
    const binding = pick<{ subjects: { kind: string; name: string; namespace: string }[] }>(
      objects,
      'ClusterRoleBinding',
      'kuberelay-mgmt-server-relay-ns',
    );
    expect(binding.subjects).toEqual([
      {
        kind: 'ServiceAccount',
        name: deployment.spec.template.spec.serviceAccountName,
        namespace: 'relay-ns',
      },
    ]);
    for (const o of objects)
      if (PLURALS[o.kind]?.namespaced)
        expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('relay-ns');
    // The CRD from crds/, no agent and no monitoring objects unless asked for.
    expect(objects.map((o) => o.kind)).toContain('CustomResourceDefinition');
    expect(objects.filter((o) => o.metadata.name.startsWith('kuberelay-agent'))).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ServiceMonitor' || o.kind === 'PrometheusRule')).toEqual([]);
  });

  it('by default, for the agent: two replicas, its heap below its limit, the credentials Secret', async () => {
    const objects = await renderChart({ namespace: 'gloo-mesh', args: AGENT });
    const deployment = pick<DeploymentSpec>(objects, 'Deployment', 'kuberelay-agent');
    expect(deployment.spec.replicas).toBe(2);
    expect(envOf(deployment, 'NODE_OPTIONS')?.value).toBe(shippedNodeOptions('agent').NODE_OPTIONS);
    expect(container(deployment).args).toEqual(
      expect.arrayContaining(['--namespace=gloo-mesh', '--credentials-secret=kuberelay-agent-credentials']),
    );
    expect(objects.filter((o) => o.metadata.name.startsWith('kuberelay-mgmt-server'))).toEqual([]);
  });

  it('follows non-default values', async () => {
    const objects = await renderChart({
      namespace: 'relay',
      args: [
        ...SERVER,
        '--set',
        'mgmtServer.replicas=3',
        '--set',
        'mgmtServer.service.type=LoadBalancer',
        '--set',
        'mgmtServer.serverSans={relay.example.com,10.0.0.7}',
        '--set',
        'mgmtServer.agentAddress=lb.example.com:443',
        '--set',
        'mgmtServer.resources.limits.memory=2Gi',
        '--set',
        'mgmtServer.antiAffinity=required',
        '--set',
        'mgmtServer.nodeSelector.pool=infra',
        '--set',
        'mgmtServer.extraArgs={--heartbeat-seconds=10}',
        '--set',
        'mgmtServer.extraEnv[0].name=EXTRA',
        '--set-string',
        'mgmtServer.extraEnv[0].value=1',
        '--set',
        'mgmtServer.gatewayClassMapping=',
        '--set',
        'featureGates.ConfigDistribution=false',
        '--set',
        'image.repository=registry.example/kuberelay',
        '--set',
        'image.tag=1.2.3',
        '--set',
        'agent.heapMiB=200',
        ...AGENT,
      ],
    });
    const server = pick<DeploymentSpec>(objects, 'Deployment', 'kuberelay-mgmt-server');
    expect(server.spec.replicas).toBe(3);
    expect(pick<{ spec: { type: string } }>(objects, 'Service', 'kuberelay-mgmt-server').spec.type).toBe(
      'LoadBalancer',
    );
    const c = container(server);
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--extra-server-san=relay.example.com',
        '--extra-server-san=10.0.0.7',
        '--agent-address=lb.example.com:443',
        '--extra-server-san=lb.example.com',
        '--heartbeat-seconds=10',
        '--gateway-class-mapping=',
        '--feature-gates=ConfigDistribution=false',
      ]),
    );
    expect(envOf(server, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=1536');
    expect(envOf(server, 'EXTRA')?.value).toBe('1');
    expect(server.spec.template.spec.nodeSelector).toEqual({ pool: 'infra' });
    expect(Object.keys(server.spec.template.spec.affinity?.podAntiAffinity ?? {})).toEqual([
      'requiredDuringSchedulingIgnoredDuringExecution',
    ]);
    expect((server.spec.template.spec.containers[0] as unknown as { image: string }).image).toBe(
      'registry.example/kuberelay:1.2.3',
    );
    const agent = pick<DeploymentSpec>(objects, 'Deployment', 'kuberelay-agent');
    expect(envOf(agent, 'NODE_OPTIONS')?.value).toBe('--max-old-space-size=200');
  });

  it('serves the dashboard only when asked, and then on the pod loopback only (no Service port)', async () => {
    const argsOf = async (extra: readonly string[]) =>
      container(
        pick<DeploymentSpec>(
          await renderChart({ namespace: 'gloo-mesh', args: [...SERVER, ...extra] }),
          'Deployment',
          'kuberelay-mgmt-server',
        ),
      ).args;
    expect((await argsOf([])).filter((a) => a.startsWith('--dashboard-listen'))).toEqual([]);
    const on = await renderChart({
      namespace: 'gloo-mesh',
      args: [
        ...SERVER,
        '--set',
        'mgmtServer.dashboard.enabled=true',
        '--set',
        'mgmtServer.dashboard.port=8088',
      ],
    });
    expect(container(pick<DeploymentSpec>(on, 'Deployment', 'kuberelay-mgmt-server')).args).toContain(
      '--dashboard-listen=127.0.0.1:8088',
    );
    const service = pick<{ spec: { ports: { port: number }[] } }>(on, 'Service', 'kuberelay-mgmt-server');
    expect(service.spec.ports.map((p) => p.port)).not.toContain(8088);
    expect(await refusal([...SERVER, '--set', 'mgmtServer.dashboard.port=0'])).toContain('port');
    expect(await refusal([...SERVER, '--set', 'mgmtServer.dashboard.enable=true'])).toContain('enable');
  });

  it('refuses values that cannot work, naming them', async () => {
    expect(await refusal([])).toContain('nothing to install: set mgmtServer.enabled=true');
    expect(await refusal(['--set', 'mgmtServer.enabled=true'])).toContain(
      'mgmtServer.enabled needs common.cluster',
    );
    // A misspelt key is refused by values.schema.json, with its name.
    expect(await refusal([...SERVER, '--set', 'mgmtServer.replica=3'])).toMatch(
      /additional properties 'replica' not allowed|replica/,
    );
    expect(await refusal([...SERVER, '--set', 'mgmtServer.service.type=Internal'])).toContain('type');
    expect(await refusal([...SERVER, '--set', 'mgmtServer.extraArgs={heartbeat}'])).toContain('extraArgs');
    expect(await refusal([...SERVER, '--set', 'mgmtServer.resources.limits.memory=1G'])).toContain(
      'mgmtServer.resources.limits.memory must be set in Mi or Gi',
    );
    expect(await refusal([...SERVER, '--set', 'common.cluster=Not_A_Name'])).toContain('cluster');
    // An env value must be a string; --set makes 1 a number, which the API server would refuse later.
    expect(
      await refusal([
        ...SERVER,
        '--set',
        'mgmtServer.extraEnv[0].name=N',
        '--set',
        'mgmtServer.extraEnv[0].value=1',
      ]),
    ).toContain('extraEnv');
  });

  it('is accepted by a real API server: every object, default and non-default, strict server-side dry run', async () => {
    const rest = new KubeRest(lab.kubeConfig('mgmt'));
    const seen = new Set<string>();
    for (const args of [
      [...SERVER, ...AGENT],
      [
        ...SERVER,
        ...AGENT,
        ...ALL_MONITORING,
        '--set',
        'mgmtServer.service.type=NodePort',
        '--set',
        'mgmtServer.service.nodePort=30990',
        '--set',
        'mgmtServer.tolerations[0].key=dedicated',
        '--set',
        'mgmtServer.tolerations[0].operator=Exists',
      ],
    ]) {
      for (const object of await renderChart({ namespace: 'gloo-mesh', args })) {
        seen.add(object.kind);
        await expect(dryRun(rest, object), `${object.kind} ${object.metadata.name}`).resolves.toMatchObject({
          kind: object.kind,
        });
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(PLURALS).sort());
  }, 120_000);
});

describe('helm install and upgrade on the lab', () => {
  it('installs the server into the management cluster and the agent into a workload cluster, then upgrades both', async () => {
    const namespace = unique('chart');
    const releases = [
      { context: 'mgmt', args: SERVER, deployment: 'kuberelay-mgmt-server' },
      { context: 'cluster-1', args: AGENT, deployment: 'kuberelay-agent' },
    ];
    try {
      for (const r of releases) {
        const target = { kubeconfig: lab.kubeconfigPath, context: r.context, namespace };
        const out = await release('install', target, r.args);
        // NOTES.txt says what to run next.
        expect(out).toContain('relayctl check --kubecontext');
        const rest = new KubeRest(lab.kubeConfig(r.context));
        const live = await rest.request<Deployment>({
          method: 'GET',
          path: `/apis/apps/v1/namespaces/${namespace}/deployments/${r.deployment}`,
        });
        expect(live.spec.replicas).toBe(2);
        const upgraded = await release('upgrade', target, [
          ...r.args,
          '--set',
          `${r.deployment === 'kuberelay-agent' ? 'agent' : 'mgmtServer'}.replicas=3`,
        ]);
        expect(upgraded).toContain('REVISION: 2');
        const after = await rest.request<Deployment>({
          method: 'GET',
          path: `/apis/apps/v1/namespaces/${namespace}/deployments/${r.deployment}`,
        });
        expect(after.spec.replicas).toBe(3);
        // The upgrade changed the Deployment in place: the same object, not a re-created one.
        expect(after.metadata.uid).toBe(live.metadata.uid);
      }
    } finally {
      for (const r of releases) {
        await release('uninstall', { kubeconfig: lab.kubeconfigPath, context: r.context, namespace }).catch(
          () => undefined,
        );
        await new KubeRest(lab.kubeConfig(r.context))
          .request({ method: 'DELETE', path: `/api/v1/namespaces/${namespace}` })
          .catch((error: unknown) => {
            if (!isNotFound(error)) throw error;
          });
      }
    }
  }, 180_000);
});
