import { describe, expect, it } from 'vitest';
import { type AgentStreamIo, MAX_PENDING_INPUTS } from './agentStream.js';
import { codeOf, GATEWAY, settle, setup, state, UPSTREAM } from './agentStream.testkit.js';
import { StreamEndCode } from './streamError.js';

// How a stream ends (replaced, deregistered, a silent peer, shutdown) and how it bounds what a
// flooding agent can make it buffer.

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
              value: {
                cluster: 'qa',
                agentVersion: '1',
                agentPod: 'a',
                haveVersion: 0,
                have: [],
                digestFormats: [],
                features: [],
              },
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
