import { describe, expect, it } from 'vitest';
import { peerAddress } from './peerAddress.js';

describe('peerAddress', () => {
  it.each([
    { peer: '10.1.2.3:50123', want: '10.1.2.3' },
    { peer: '10.1.2.3', want: '10.1.2.3' },
    // grpc-js writes IPv6 without brackets; a short port must not pass for the last group.
    { peer: '::1:50123', want: '::1' },
    { peer: '::1:5012', want: '::1' },
    { peer: '2001:DB8::7:443', want: '2001:db8::7' },
    { peer: '[2001:db8::7]:443', want: '2001:db8::7' },
    { peer: 'ipv6:[::1]:8443', want: '::1' },
    { peer: 'ipv4:127.0.0.1:9000', want: '127.0.0.1' },
    { peer: '::ffff:192.168.0.9:41000', want: '192.168.0.9' },
    { peer: 'unknown', want: 'unknown' },
    { peer: '/run/kuberelay.sock', want: '/run/kuberelay.sock' },
  ])('$peer → $want', ({ peer, want }) => {
    expect(peerAddress(peer)).toBe(want);
  });
});
