import { isIP } from 'node:net';

/**
 * The address part of a grpc-js peer string, so limits apply per host and not per connection
 * (every reconnect has a new source port). grpc-js writes `<remoteAddress>:<remotePort>` with no
 * brackets around IPv6 (`::1:50123`), sometimes only the address, or `unknown`. IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`) is folded to IPv4 so one host is one key whatever socket family it used.
 * Anything unrecognised is returned as is: a limit keyed on an odd string still limits.
 */
export function peerAddress(peer: string): string {
  const text = peer.replace(/^(ipv4|ipv6):/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed?.[1] !== undefined) return foldMapped(bracketed[1]);
  // The port is stripped first: grpc-js appends it whenever the socket has one, and `::1:5012`
  // is also a valid IPv6 address on its own, so the other order would key every connection apart.
  const withPort = /^(.*):(\d{1,5})$/.exec(text);
  if (withPort?.[1] !== undefined && isIP(withPort[1]) !== 0) return foldMapped(withPort[1]);
  return isIP(text) !== 0 ? foldMapped(text) : text;
}

function foldMapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped?.[1] ?? address).toLowerCase();
}
