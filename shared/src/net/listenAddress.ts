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

/** `host:port` with a port in 1..65535 (IPv6 hosts in brackets). */
export function isHostPort(value: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

/** `host:port` as grpc-js and URLs want it (IPv6 hosts in brackets). */
export function formatListenAddress(address: ListenAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** What a program listens for, and the flag that sets its address (named in the error). */
export interface Listener {
  /** e.g. `--http-listen`. */
  readonly flag: string;
  /** e.g. `127.0.0.1:9091`. */
  readonly address: string;
}

/** Why the OS refused a listening socket, in words; the errno code is kept in the message too. */
const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use (another process listens on that port)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'the address is not one of this host',
};

/**
 * The error a program fails with when it cannot listen: one line naming the address, the flag and
 * the reason, so an operator can fix it without reading a stack trace. `cause` is the socket
 * error (or grpc-js's bind error, whose message carries the errno name).
 */
export function listenFailed(listener: Listener, cause: unknown): RelayError {
  const errno = errnoOf(cause);
  const reason =
    errno === undefined
      ? cause instanceof Error
        ? cause.message
        : String(cause)
      : `${LISTEN_REASONS[errno] ?? errno.toLowerCase()} (${errno})`;
  return new RelayError({
    code: ErrorCode.ListenFailed,
    message: `cannot listen on ${listener.address} (${listener.flag}): ${reason}`,
    details: { flag: listener.flag, address: listener.address, ...(errno === undefined ? {} : { errno }) },
    cause,
  });
}

/** `EADDRINUSE` & co. from a Node socket error (`code`) or a grpc-js bind error (message text). */
function errnoOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    if (/^E[A-Z]+$/.test(error.code)) return error.code;
  }
  const text = error instanceof Error ? error.message : String(error);
  return /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/.exec(text)?.[1];
}
