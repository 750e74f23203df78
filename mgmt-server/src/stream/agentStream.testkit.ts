import { AgentFeature, type ConnectRequest, type ConnectResponse, type Delta } from '@kuberelay/proto';
import {
  computeDesiredState,
  createManualClock,
  DEFAULT_CLASS_MAPPING,
  DEFAULT_KINDS,
  type DesiredState,
  ErrorCode,
  err,
  type KubeObject,
  ok,
  RelayError,
} from '@kuberelay/shared';
import { pino } from 'pino';
import type { Authenticator } from '../auth/authenticator.js';
import { SnapshotCache } from '../snapshot/snapshotCache.js';
import { type AgentStreamIo, runAgentStream, type StreamSettings } from './agentStream.js';
import { AsyncQueue } from './asyncQueue.js';
import type { StreamError } from './streamError.js';
import type { StreamEvent } from './streamEvents.js';
import { StreamSessions } from './streamSessions.js';

// One agent stream in memory for the runAgentStream unit tests: a fake agent, a stand-in
// authenticator, a manual clock and a snapshot cache to publish to (not shipped: *.testkit.ts).

const logger = pino({ level: 'silent' });

const source = (kind: string, apiVersion: string, name: string, to: string, spec: object): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'gloo-mesh', annotations: { 'gloo.solo.io/distribute-to': to } },
  spec,
});
export const GATEWAY = source('Gateway', 'gateway.networking.k8s.io/v1', 'gw', '*/gloo-system', {
  gatewayClassName: 'gloo-gateway-distribute',
});
export const UPSTREAM = source('Upstream', 'gloo.solo.io/v1', 'httpbin', '*/httpbin', {
  kube: { serviceName: 'httpbin' },
});
export const GW_KEY = 'gateway.networking.k8s.io/Gateway/gloo-system/gw';
export const UP_KEY = 'gloo.solo.io/Upstream/httpbin/httpbin';

export function state(
  sources: readonly KubeObject[],
  clusters = ['qa', 'prod'],
  previous?: DesiredState,
): DesiredState {
  return computeDesiredState({
    sources,
    clusters,
    mgmtCluster: 'mgmt',
    classMapping: DEFAULT_CLASS_MAPPING,
    kinds: DEFAULT_KINDS,
    previous,
  });
}

/**
 * Stands in for the certificate check: a "certificate" whose bytes read `good-<cluster>`
 * authenticates as <cluster> (registration uid `uid-<cluster>`); anything else is unknown.
 */
const authenticator: Authenticator = {
  authenticate: ({ peerCertificate }) => {
    const presented = Buffer.from(peerCertificate ?? []).toString('utf8');
    return presented.startsWith('good-')
      ? ok({ cluster: presented.slice('good-'.length), uid: `uid-${presented.slice('good-'.length)}` })
      : err(new RelayError({ code: ErrorCode.Unauthenticated, message: 'unknown certificate' }));
  },
};
const certificate = (name: string) => new Uint8Array(Buffer.from(name));

/** An agent on the other end of an in-memory stream. */
export class FakeAgent implements AgentStreamIo {
  readonly sent: ConnectResponse[] = [];
  readonly #inbox = new AsyncQueue<ConnectRequest | 'end'>();
  readonly messages: AsyncIterable<ConnectRequest>;

  constructor() {
    const inbox = this.#inbox;
    this.messages = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const next = await inbox.next();
          if (next === 'end') return;
          yield next;
        }
      },
    };
  }

  async send(message: ConnectResponse): Promise<void> {
    this.sent.push(message);
  }

  say(message: ConnectRequest['message']): void {
    this.#inbox.push({ message });
  }

  /** As a current agent: it offers the entrySum digests and knows copy policies (unless `features`). */
  hello(
    cluster: string,
    have: { key: string; hash: string }[] = [],
    haveVersion = 0,
    features: AgentFeature[] = [AgentFeature.AGENT_FEATURE_COPY_POLICY],
  ): void {
    this.say({
      $case: 'hello',
      value: {
        cluster,
        agentVersion: '1.0.0',
        agentPod: 'agent-0',
        haveVersion,
        have,
        digestFormats: [1],
        features,
      },
    });
  }

  close(): void {
    this.#inbox.push('end');
  }

  deltas(): Delta[] {
    return this.sent.flatMap((m) => (m.message?.$case === 'delta' ? [m.message.value] : []));
  }

  cases(): string[] {
    return this.sent.map((m) => m.message?.$case ?? '?');
  }
}

export const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

export function setup(
  options: { settings?: Partial<StreamSettings>; token?: string; publish?: boolean } = {},
) {
  const clock = createManualClock({ start: 1_000_000 });
  const cache = new SnapshotCache();
  if (options.publish ?? true) cache.publish(state([GATEWAY, UPSTREAM]));
  const sessions = new StreamSessions();
  const events: StreamEvent[] = [];
  const abort = new AbortController();
  /** Opens a stream; `io` replaces the FakeAgent for tests that need their own peer. */
  const open = (token = options.token ?? 'good-qa', io?: AgentStreamIo) => {
    const agent = new FakeAgent();
    const done = runAgentStream({
      streamId: `s-${Math.random()}`,
      io: io ?? agent,
      credentials: { peer: '127.0.0.1:5555', peerCertificate: certificate(token) },
      authenticator,
      cache,
      sessions,
      settings: {
        mgmtCluster: 'mgmt',
        serverPod: 'gloo-mesh/server-0',
        distributionEnabled: true,
        heartbeatSeconds: 5,
        ...options.settings,
      },
      clock,
      logger,
      signal: abort.signal,
      observe: (e) => events.push(e),
    });
    return { agent, done };
  };
  return { clock, cache, sessions, events, abort, open };
}

export const codeOf = (e: StreamError | undefined) => e?.code;
