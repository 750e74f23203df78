import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Agent,
  AgentIdentity,
  type AgentOptions,
  type CredentialsStore,
  type CredentialsUpdate,
  certificateFactsOf,
  startAgent,
} from '@kuberelay/agent';
import { type Copy, CopyOutcome } from '@kuberelay/proto';
import { DEFAULT_KINDS, type KindInfo, type KubeObject, Label } from '@kuberelay/shared';
import { ContentType, isNotFound, KubeRest, resourcePath } from '@kuberelay/shared/kube';
import { createCsr } from '@kuberelay/shared/pki';
import { pino } from 'pino';
import { afterEach, beforeAll, inject } from 'vitest';
import { attachLab, type Lab } from '../lab/lab.js';
import { sampleValue } from '../support/exposition.js';
import { createTestPki, RelayTestServer, signClientCsr, type TestPki } from './relayTestServer.js';

// What the agent's end-to-end tests share: the agent against a real kube-apiserver (lab
// cluster-1), driven by a small RelayService that plays the management server; the agent's
// metrics count its writes, so "no writes" is checked as an operator would see it.

export const CLUSTER = 'cluster-1';
export const logger = pino({ level: process.env.AGENT_DEBUG ? 'debug' : 'silent' });

/** The certificate facts the agent reads (its type is not exported by name). */
type CertificateFacts = Extract<ReturnType<typeof certificateFactsOf>, { ok: true }>['value'];

export interface ClientMaterial {
  readonly material: { readonly caPem: string; readonly certPem: string; readonly keyPem: string };
  readonly cert: CertificateFacts;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How soon a watch-driven reaction (a drift repaired, a copy applied once its namespace exists)
 * must show in these tests. It only tells a watch reaction (milliseconds) from the 5-minute resync
 * fallback, with room for a busy 2-core machine; the latency goal itself (drift repair p99 <= 1 s)
 * is measured by `pnpm bench:latency`, not asserted here.
 */
export const WATCH_REACTION_MS = 5_000;

export type Live = KubeObject & {
  metadata: {
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: { manager?: string; subresource?: string; fieldsV1?: Record<string, unknown> }[];
  };
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export const upstream = (name: string, namespace: string, port = 80): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name, namespace },
  spec: { static: { hosts: [{ addr: `${name}.example.com`, port }] } },
});
export const upstreamPath = (namespace: string, name: string) =>
  `/apis/gloo.solo.io/v1/namespaces/${namespace}/upstreams/${name}`;

export const route = (name: string, namespace: string): KubeObject => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name, namespace },
  spec: {
    parentRefs: [{ name: 'gw', namespace: 'gloo-system' }],
    hostnames: ['www.example.com'],
    rules: [{ backendRefs: [{ group: 'gloo.solo.io', kind: 'Upstream', name: 'u1' }] }],
  },
});
export const routePath = (namespace: string, name: string) =>
  `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/${name}`;

export const manifestOf = (copy: Copy) => JSON.parse(copy.manifest.toString('utf8')) as Live;
export const applied = (copy: Copy) => ({
  key: copy.key,
  hash: copy.hash,
  outcome: CopyOutcome.COPY_OUTCOME_APPLIED,
  code: '',
  message: '',
});

/** Credentials in memory, for tests that are not about where they are stored. */
export class MemoryCredentialsStore implements CredentialsStore {
  readonly description = 'memory';
  readonly saved: CredentialsUpdate[] = [];
  async load() {
    return {};
  }
  async save(update: CredentialsUpdate) {
    this.saved.push(update);
  }
}

export async function stateFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'agent-e2e-')), 'state.json');
}

/** A sample of the agent's /metrics, by name and labels (besides the `cluster` every series has). */
export async function metric(
  agent: Agent,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${agent.httpPort}/metrics`)).text();
  return sampleValue(text, name, labels, ['cluster']);
}

export async function writes(agent: Agent): Promise<{ create: number; update: number; delete: number }> {
  return {
    create: await metric(agent, 'kuberelay_agent_writes_total', { verb: 'create' }),
    update: await metric(agent, 'kuberelay_agent_writes_total', { verb: 'update' }),
    delete: await metric(agent, 'kuberelay_agent_writes_total', { verb: 'delete' }),
  };
}

export interface StartTestAgentOptions {
  readonly serverAddress: string;
  readonly stateFile: string;
  /** Default: a valid certificate from the test's relay CA. */
  readonly identity?: AgentIdentity;
  readonly kinds?: readonly KindInfo[];
  readonly resyncIntervalMs?: AgentOptions['resyncIntervalMs'];
}

/**
 * The lab, the workload cluster's admin client, a relay PKI, and clean-ups run after each test.
 * Call `useAgentHarness()` once at the top of a test file: it registers the hooks.
 */
export class AgentHarness {
  #lab: Lab | undefined;
  #rest: KubeRest | undefined;
  #pki: TestPki | undefined;
  readonly cleanups: (() => Promise<void>)[] = [];
  /** Namespaces the current test created: their copies are deleted after it. */
  readonly #namespaces: string[] = [];

  async init(): Promise<void> {
    this.#lab = attachLab(inject('labDir'));
    this.#rest = new KubeRest(this.#lab.kubeConfig(CLUSTER));
    this.#pki = await createTestPki();
  }

  async cleanUp(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
    // An agent sweeps every object with its management cluster's relay label that its desired
    // set does not want (orphan-proof pruning), so a copy one test leaves behind would be deleted
    // by the next test's agent and counted in its writes. The lab has no namespace controller to
    // empty deleted namespaces, so the copies go here.
    for (const namespace of this.#namespaces.splice(0)) await deleteCopiesIn(this.rest, namespace);
  }

  get lab(): Lab {
    return ready(this.#lab);
  }
  get rest(): KubeRest {
    return ready(this.#rest);
  }
  get pki(): TestPki {
    return ready(this.#pki);
  }

  readonly createNamespace = async (name: string): Promise<void> => {
    await this.rest.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } });
    this.#namespaces.push(name);
  };

  readonly get = async (path: string): Promise<Live | undefined> => {
    try {
      return await this.rest.request<Live>({ method: 'GET', path });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };

  readonly mustGet = async (path: string): Promise<Live> => {
    const live = await this.get(path);
    if (live === undefined) throw new Error(`${path} does not exist`);
    return live;
  };

  /** A change made by a person (or another controller), with a field manager of their own. */
  readonly edit = async (path: string, patch: unknown, fieldManager = 'e2e-editor'): Promise<void> => {
    await this.rest.request({
      method: 'PATCH',
      path,
      query: { fieldManager },
      contentType: ContentType.mergePatch,
      body: patch,
    });
  };

  readonly startServer = async (): Promise<RelayTestServer> => {
    const server = await RelayTestServer.start({ pki: this.pki });
    this.cleanups.push(() => server.stop());
    return server;
  };

  /** A client certificate for CLUSTER from `ca` (the test's relay CA unless given). */
  readonly clientMaterial = async (ca = this.pki.ca): Promise<ClientMaterial> => {
    const { csrPem, keyPem } = await createCsr({ commonName: CLUSTER });
    const certPem = await signClientCsr({ ca, csrPem, cluster: CLUSTER, lifetimeMs: 86_400_000 });
    const cert = certificateFactsOf(certPem, 'test certificate');
    if (!cert.ok) throw cert.errors[0];
    return { material: { caPem: this.pki.ca.certPem, certPem, keyPem }, cert: cert.value };
  };

  readonly startTestAgent = async (options: StartTestAgentOptions): Promise<Agent> => {
    const identity =
      options.identity ??
      new AgentIdentity({
        cluster: CLUSTER,
        serverAddress: options.serverAddress,
        auth: { kind: 'certificate', ...(await this.clientMaterial()) },
        store: new MemoryCredentialsStore(),
        logger,
      });
    const agent = await startAgent({
      kubeConfig: this.lab.kubeConfig(CLUSTER),
      cluster: CLUSTER,
      serverAddress: options.serverAddress,
      identity,
      stateFile: options.stateFile,
      podName: 'e2e-agent',
      logger,
      ...(options.kinds === undefined ? {} : { kinds: options.kinds }),
      ...(options.resyncIntervalMs === undefined ? {} : { resyncIntervalMs: options.resyncIntervalMs }),
    });
    this.cleanups.push(() => agent.stop());
    return agent;
  };

  /** Makes a change and measures how long until `repaired` holds for the live object. */
  readonly timeRepair = async (
    path: string,
    change: () => Promise<void>,
    repaired: (live: Live | undefined) => boolean,
  ): Promise<number> => {
    const started = Date.now();
    await change();
    for (;;) {
      const live = await this.get(path);
      if (repaired(live)) return Date.now() - started;
      if (Date.now() - started > 10_000) throw new Error(`${path} was not repaired within 10 s`);
      await sleep(20);
    }
  };
}

/** Deletes every object with a relay label in `namespace`, of every default kind. */
export async function deleteCopiesIn(rest: KubeRest, namespace: string): Promise<void> {
  for (const kind of DEFAULT_KINDS.filter((k) => k.namespaced)) {
    await rest
      .request({
        method: 'DELETE',
        path: resourcePath({ group: kind.group, version: kind.version, plural: kind.plural, namespace }),
        query: { labelSelector: Label.RelayCluster },
      })
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
}

export function useAgentHarness(): AgentHarness {
  const harness = new AgentHarness();
  beforeAll(() => harness.init());
  afterEach(() => harness.cleanUp());
  return harness;
}

function ready<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the agent harness is used before its beforeAll hook ran');
  return value;
}
