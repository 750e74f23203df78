import { type ConnectRequest, type ConnectResponse, type Delta, NackReason } from '@kuberelay/proto';
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
import { describe, expect, it } from 'vitest';
import type { Authenticator } from '../auth/authenticator.js';
import { SnapshotCache } from '../snapshot/snapshotCache.js';
import {
  type AgentStreamIo,
  MAX_PENDING_INPUTS,
  runAgentStream,
  type StreamSettings,
} from './agentStream.js';
import { AsyncQueue } from './asyncQueue.js';
import { StreamEndCode, type StreamError } from './streamError.js';
import type { StreamEvent } from './streamEvents.js';
import { StreamSessions } from './streamSessions.js';

const logger = pino({ level: 'silent' });

const source = (kind: string, apiVersion: string, name: string, to: string, spec: object): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'gloo-mesh', annotations: { 'gloo.solo.io/distribute-to': to } },
  spec,
});
const GATEWAY = source('Gateway', 'gateway.networking.k8s.io/v1', 'gw', '*/gloo-system', {
  gatewayClassName: 'gloo-gateway-distribute',
});
const UPSTREAM = source('Upstream', 'gloo.solo.io/v1', 'httpbin', '*/httpbin', {
  kube: { serviceName: 'httpbin' },
});
const GW_KEY = 'gateway.networking.k8s.io/Gateway/gloo-system/gw';
const UP_KEY = 'gloo.solo.io/Upstream/httpbin/httpbin';

function state(
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
class FakeAgent implements AgentStreamIo {
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

  hello(cluster: string, have: { key: string; hash: string }[] = [], haveVersion = 0): void {
    this.say({
      $case: 'hello',
      value: { cluster, agentVersion: '1.0.0', agentPod: 'agent-0', haveVersion, have },
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

const settle = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

function setup(options: { settings?: Partial<StreamSettings>; token?: string; publish?: boolean } = {}) {
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

const codeOf = (e: StreamError | undefined) => e?.code;

describe('agent stream: refusals', () => {
  it.each([
    {
      name: 'unknown token → Unauthenticated, recorded with the claimed cluster',
      token: 'bad',
      hello: 'qa',
      code: StreamEndCode.Unauthenticated,
      claimed: 'qa',
    },
    {
      name: "another cluster's name → PermissionDenied",
      token: 'good-qa',
      hello: 'prod',
      code: StreamEndCode.PermissionDenied,
      claimed: 'prod',
    },
    {
      name: 'valid token of an unregistered cluster → PermissionDenied',
      token: 'good-gone',
      hello: 'gone',
      code: StreamEndCode.PermissionDenied,
      claimed: 'gone',
    },
  ])('$name', async ({ token, hello, code, claimed }) => {
    const { open, events } = setup({ token });
    const { agent, done } = open();
    agent.hello(hello);
    expect(codeOf(await done)).toBe(code);
    expect(agent.sent).toEqual([]);
    expect(events).toMatchObject([{ type: 'rejected', claimedCluster: claimed, code }]);
  });

  it('a first message that is not a Hello → InvalidArgument', async () => {
    const { open } = setup();
    const { agent, done } = open();
    agent.say({ $case: 'heartbeat', value: { unixMillis: 1 } });
    expect(codeOf(await done)).toBe(StreamEndCode.InvalidArgument);
    expect(agent.sent).toEqual([]);
  });

  it('no Hello within three heartbeats → InvalidArgument', async () => {
    const { open, clock } = setup();
    const { done } = open();
    await clock.advance(15_000);
    expect(codeOf(await done)).toBe(StreamEndCode.InvalidArgument);
  });
});

describe('agent stream: versions', () => {
  it('Welcome, then the whole set against an empty Hello, then only changes after the Ack', async () => {
    const { open, cache, events } = setup();
    const { agent, done } = open();
    agent.hello('qa');
    await settle();
    expect(agent.cases()).toEqual(['welcome', 'delta']);
    expect(agent.sent[0]?.message).toEqual({
      $case: 'welcome',
      value: {
        cluster: 'qa',
        mgmtCluster: 'mgmt',
        serverPod: 'gloo-mesh/server-0',
        distributionEnabled: true,
        heartbeatSeconds: 5,
      },
    });
    const first = agent.deltas()[0];
    expect(first?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
    expect(first?.removes).toEqual([]);
    expect(first?.replace).toBe(false);
    const gw = JSON.parse(first?.upserts[0]?.manifest.toString('utf8') ?? '{}') as KubeObject;
    expect(gw.spec).toEqual({ gatewayClassName: 'gloo-gateway' });
    expect(first?.digest).toBe(cache.get('qa')?.digest);

    agent.say({
      $case: 'ack',
      value: { version: first?.version ?? 0, digest: first?.digest ?? '', results: [] },
    });
    await settle();
    expect(agent.deltas()).toHaveLength(1);

    // The Upstream stops going anywhere: the next version only removes it.
    cache.publish(state([GATEWAY, { ...UPSTREAM, metadata: { ...UPSTREAM.metadata, annotations: {} } }]));
    await settle();
    const second = agent.deltas()[1];
    expect(second?.upserts).toEqual([]);
    expect(second?.removes).toEqual([UP_KEY]);
    expect(second?.version).toBeGreaterThan(first?.version ?? 0);
    expect(events.map((e) => e.type)).toEqual(['connected', 'sent', 'acked', 'sent']);
    agent.close();
    expect(await done).toBeUndefined();
    expect(events.at(-1)).toMatchObject({ type: 'disconnected', wasCurrent: true, code: 'Closed' });
  });

  it('an agent that already holds everything gets one empty version', async () => {
    const { open, cache } = setup();
    const snapshot = cache.get('qa');
    const have = [...(snapshot?.copies.values() ?? [])].map((c) => ({ key: c.key, hash: c.hash }));
    const { agent } = open();
    agent.hello('qa', have, 5);
    await settle();
    const [delta] = agent.deltas();
    expect(delta).toMatchObject({ upserts: [], removes: [], chunk: 1, chunks: 1 });
    expect(delta?.version).toBeGreaterThan(5);
  });

  it('copies the agent holds but should not are removed; changed ones are resent', async () => {
    const { open } = setup();
    const { agent } = open();
    agent.hello('qa', [
      { key: GW_KEY, hash: 'stale' },
      { key: 'gloo.solo.io/Upstream/httpbin/old', hash: 'x' },
    ]);
    await settle();
    const [delta] = agent.deltas();
    expect(delta?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
    expect(delta?.removes).toEqual(['gloo.solo.io/Upstream/httpbin/old']);
  });

  it('keeps one version in flight: edits during it coalesce into the next', async () => {
    const { open, cache } = setup();
    const { agent } = open();
    agent.hello('qa');
    await settle();
    let previous = cache.state;
    for (const port of [1, 2, 3]) {
      previous = state(
        [GATEWAY, { ...UPSTREAM, spec: { kube: { serviceName: 'httpbin', servicePort: port } } }],
        undefined,
        previous,
      );
      cache.publish(previous);
    }
    await settle();
    expect(agent.deltas()).toHaveLength(1);
    const first = agent.deltas()[0];
    agent.say({
      $case: 'ack',
      value: { version: first?.version ?? 0, digest: first?.digest ?? '', results: [] },
    });
    await settle();
    const deltas = agent.deltas();
    expect(deltas).toHaveLength(2);
    const upstream = JSON.parse(deltas[1]?.upserts[0]?.manifest.toString('utf8') ?? '{}') as {
      spec: unknown;
    };
    expect(upstream.spec).toEqual({ kube: { serviceName: 'httpbin', servicePort: 3 } });
  });

  it('DIGEST_MISMATCH → a replacing version with the full set, at once', async () => {
    const { open } = setup();
    const { agent } = open();
    agent.hello('qa');
    await settle();
    const first = agent.deltas()[0];
    agent.say({
      $case: 'nack',
      value: {
        version: first?.version ?? 0,
        reason: NackReason.NACK_REASON_DIGEST_MISMATCH,
        message: 'digest',
      },
    });
    await settle();
    const second = agent.deltas()[1];
    expect(second?.replace).toBe(true);
    expect(second?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
  });

  it('another Nack keeps the last acked state and retries after a backoff', async () => {
    const { open, clock } = setup({
      settings: { retryBackoff: { minMs: 1_000, maxMs: 1_000, random: () => 0.5 } },
    });
    const { agent } = open();
    agent.hello('qa');
    await settle();
    const first = agent.deltas()[0];
    agent.say({
      $case: 'nack',
      value: {
        version: first?.version ?? 0,
        reason: NackReason.NACK_REASON_INVALID_MANIFEST,
        message: 'bad json',
      },
    });
    await settle();
    expect(agent.deltas()).toHaveLength(1);
    await clock.advance(600);
    const retry = agent.deltas()[1];
    expect(retry?.replace).toBe(false);
    expect(retry?.upserts.map((c) => c.key)).toEqual([GW_KEY, UP_KEY]);
    expect(retry?.version).toBeGreaterThan(first?.version ?? 0);
  });

  it('distribution off: Welcome says so and no Delta follows', async () => {
    const { open } = setup({ settings: { distributionEnabled: false } });
    const { agent } = open();
    agent.hello('qa');
    await settle();
    expect(agent.cases()).toEqual(['welcome']);
    expect(agent.sent[0]?.message).toMatchObject({ $case: 'welcome', value: { distributionEnabled: false } });
  });

  it('says nothing before the server has a complete view', async () => {
    const { open, cache } = setup({ publish: false });
    const { agent } = open();
    agent.hello('qa');
    await settle();
    expect(agent.sent).toEqual([]);
    cache.publish(state([GATEWAY]));
    await settle();
    expect(agent.cases()).toEqual(['welcome', 'delta']);
  });
});

describe('agent stream: before the view is complete', () => {
  it('does not even refuse an unknown token until ready', async () => {
    const { open, cache, events } = setup({ publish: false, token: 'bad' });
    const { agent, done } = open();
    agent.hello('qa');
    let ended = false;
    void done.then(() => {
      ended = true;
    });
    await settle();
    expect(ended).toBe(false);
    expect(events).toEqual([]);
    cache.publish(state([GATEWAY]));
    expect(codeOf(await done)).toBe(StreamEndCode.Unauthenticated);
    expect(agent.sent).toEqual([]);
  });
});

describe('agent stream: lifecycle', () => {
  it('a second stream for the cluster replaces the first', async () => {
    const { open } = setup();
    const one = open();
    one.agent.hello('qa');
    await settle();
    const two = open();
    two.agent.hello('qa');
    expect(codeOf(await one.done)).toBe(StreamEndCode.Replaced);
    await settle();
    expect(two.agent.cases()).toEqual(['welcome', 'delta']);
  });

  it('deregistration ends the stream', async () => {
    const { open, cache } = setup();
    const { agent, done } = open();
    agent.hello('qa');
    await settle();
    cache.publish(state([GATEWAY, UPSTREAM], ['prod']));
    expect(codeOf(await done)).toBe(StreamEndCode.Deregistered);
  });

  it('sends heartbeats and drops an agent silent for three of them', async () => {
    const { open, clock } = setup();
    const { agent, done } = open();
    agent.hello('qa');
    await settle();
    await clock.advance(5_000);
    expect(agent.cases()).toEqual(['welcome', 'delta', 'heartbeat']);
    agent.say({ $case: 'heartbeat', value: { unixMillis: 1 } });
    await settle();
    await clock.advance(10_000);
    expect(agent.cases().filter((c) => c === 'heartbeat')).toHaveLength(3);
    await clock.advance(5_000);
    expect(codeOf(await done)).toBe(StreamEndCode.PeerSilent);
  });

  it('server shutdown ends the stream with ShuttingDown', async () => {
    const { open, abort } = setup();
    const { agent, done } = open();
    agent.hello('qa');
    await settle();
    abort.abort();
    expect(codeOf(await done)).toBe(StreamEndCode.ShuttingDown);
  });
});

describe('agent stream: backpressure', () => {
  it('stops reading an agent that sends faster than the stream handles: at most MAX_PENDING_INPUTS wait', async () => {
    const { open, abort } = setup();
    let pulled = 0;
    const flood: AgentStreamIo = {
      // The state machine is stuck on its first send (Welcome) for as long as the test runs.
      send: () => new Promise(() => {}),
      messages: {
        async *[Symbol.asyncIterator]() {
          yield {
            message: {
              $case: 'hello',
              value: { cluster: 'qa', agentVersion: '1', agentPod: 'a', haveVersion: 0, have: [] },
            },
          };
          for (let i = 0; i < 1_000; i++) {
            pulled += 1;
            yield { message: { $case: 'heartbeat', value: { unixMillis: i } } };
          }
        },
      },
    };
    const { done } = open('good-qa', flood);
    await settle(50);
    expect(pulled).toBeGreaterThan(0);
    expect(pulled).toBeLessThanOrEqual(MAX_PENDING_INPUTS + 1);
    abort.abort();
    await settle();
    void done;
  });
});
