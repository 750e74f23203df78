import { describe, expect, it } from 'vitest';
import { codeOf, GATEWAY, settle, setup, state } from './agentStream.testkit.js';
import { StreamEndCode } from './streamError.js';

// Streams the server refuses before anything is sent: unknown certificates, another cluster's
// name, unregistered clusters, no Hello; and no verdict at all until the view is complete.

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
