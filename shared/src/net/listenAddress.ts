import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';

/** A parsed `host:port` listen address. `port` 0 asks the OS for a free port. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port`, `:port` (every interface) or `[v6]:port`. The empty host means every IPv4
 * interface, which is what a pod behind a Service needs; give `[::]:port` for IPv6.
 */
export function parseListenAddress(flag: string, value: string): Result<ListenAddress> {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65_535) {
    return err(
      new RelayError({
        code: ErrorCode.InvalidConfig,
        message: `${flag} "${value}" is not a listen address such as :9900, 127.0.0.1:9900 or [::]:9900`,
        details: { flag, value },
      }),
    );
  }
  const host = match[1] ?? (match[2] === '' || match[2] === undefined ? '0.0.0.0' : match[2]);
  return ok({ host, port });
}

/** `host:port` as grpc-js and URLs want it (IPv6 hosts in brackets). */
export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
