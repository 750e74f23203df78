import type { ConnectRequest } from '@kuberelay/proto';
import { ErrorCode, err, ok, RelayError } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { checkAlive, checkHello } from './streamChecks.js';
import { StreamEndCode } from './streamError.js';

const hello = (cluster: string): ConnectRequest => ({
  message: {
    $case: 'hello',
    value: {
      cluster,
      agentVersion: '1',
      agentPod: 'a',
      haveVersion: 0,
      have: [],
      digestFormats: [],
      features: [],
    },
  },
});

describe('checkHello', () => {
  it.each<{
    name: string;
    first: ConnectRequest | undefined;
    registered?: boolean;
    code?: string;
    claimed?: string;
  }>([
    { name: 'the authenticated, registered cluster', first: hello('qa') },
    { name: 'nothing before the deadline', first: undefined, code: StreamEndCode.InvalidArgument },
    {
      name: 'another message first',
      first: { message: { $case: 'heartbeat', value: { unixMillis: 1 } } },
      code: StreamEndCode.InvalidArgument,
    },
    {
      name: "another cluster's name",
      first: hello('prod'),
      code: StreamEndCode.PermissionDenied,
      claimed: 'prod',
    },
    {
      name: 'a cluster deregistered meanwhile',
      first: hello('qa'),
      registered: false,
      code: StreamEndCode.PermissionDenied,
      claimed: 'qa',
    },
  ])('$name', ({ first, registered, code, claimed }) => {
    const result = checkHello({ first, cluster: 'qa', registered: registered ?? true });
    if (code === undefined) {
      expect(result).toMatchObject({ ok: true, hello: { cluster: 'qa' } });
    } else {
      expect(result).toMatchObject({ ok: false, claimed, error: { code } });
    }
  });
});

describe('checkAlive', () => {
  const me = ok({ cluster: 'qa', uid: 'u1' });
  it.each([
    { name: 'heard within 3 heartbeats, same identity', now: 14_999, identity: me, code: undefined },
    { name: 'silent for 3 heartbeats', now: 15_000, identity: me, code: StreamEndCode.PeerSilent },
    {
      name: 're-registered (another uid)',
      now: 1_000,
      identity: ok({ cluster: 'qa', uid: 'u2' }),
      code: StreamEndCode.Unauthenticated,
    },
    {
      name: 'certificate no longer valid',
      now: 1_000,
      identity: err(new RelayError({ code: ErrorCode.Unauthenticated, message: 'expired' })),
      code: StreamEndCode.Unauthenticated,
    },
    {
      name: 'cluster deregistered',
      now: 1_000,
      identity: err(new RelayError({ code: ErrorCode.PermissionDenied, message: 'not registered' })),
      code: StreamEndCode.PermissionDenied,
    },
  ])('$name', ({ now, identity, code }) => {
    const problem = checkAlive({
      now,
      lastHeard: 0,
      heartbeatSeconds: 5,
      identity,
      cluster: 'qa',
      uid: 'u1',
    });
    expect(problem?.code).toBe(code);
  });
});
