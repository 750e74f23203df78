import { LimitCode, type LimitRefusal } from './limitRefusal.js';

/**
 * Generous for agents behind one NAT gateway (each holds one connection, two while it reconnects,
 * and twice that with two agent replicas), small enough that one host cannot take the server's
 * file descriptors. Behind a proxy that does not preserve client addresses every agent shares one
 * address: raise it, or set 0, there.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
/** Ten times the fleet one replica is sized for; a last line before file descriptors run out. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export interface ConnectionLimiterOptions {
  /** Open TCP connections per peer address; 0 disables. */
  readonly maxPerAddress?: number;
  /** Open TCP connections in all; 0 disables. */
  readonly maxTotal?: number;
}

/** One admitted connection. `release()` when its socket closes; calling it again is harmless. */
export interface ConnectionLease {
  release(): void;
}

export type ConnectionAdmission =
  | { readonly ok: true; readonly lease: ConnectionLease }
  | { readonly ok: false; readonly refusal: LimitRefusal };

export interface ConnectionLimiter {
  /** `address` is the peer's IP (peerAddress folds IPv4-mapped IPv6 first). */
  admit(address: string): ConnectionAdmission;
  /** Connections open from `address`, or in all without one (for metrics and tests). */
  open(address?: string): number;
}

/**
 * Counts open connections per peer address and in all, before TLS: a refused connection costs
 * the server one map lookup and a closed socket, never a handshake. Pure; memory follows the
 * connections that are open (an address with none has no entry).
 */
export function createConnectionLimiter(options: ConnectionLimiterOptions = {}): ConnectionLimiter {
  const maxPerAddress = options.maxPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
  const maxTotal = options.maxTotal ?? DEFAULT_MAX_CONNECTIONS;
  const perAddress = new Map<string, number>();
  let total = 0;

  const admit = (address: string): ConnectionAdmission => {
    const held = perAddress.get(address) ?? 0;
    if (maxTotal > 0 && total >= maxTotal) {
      return {
        ok: false,
        refusal: {
          code: LimitCode.TooManyConnections,
          message: `the server holds ${total} connections, its limit (--max-connections)`,
        },
      };
    }
    if (maxPerAddress > 0 && held >= maxPerAddress) {
      return {
        ok: false,
        refusal: {
          code: LimitCode.TooManyConnectionsFromAddress,
          message: `${address} holds ${held} connections, the limit per address (--max-connections-per-address)`,
        },
      };
    }
    perAddress.set(address, held + 1);
    total += 1;
    let released = false;
    return {
      ok: true,
      lease: {
        release: () => {
          if (released) return;
          released = true;
          total -= 1;
          const left = (perAddress.get(address) ?? 1) - 1;
          if (left > 0) perAddress.set(address, left);
          else perAddress.delete(address);
        },
      },
    };
  };

  return { admit, open: (address) => (address === undefined ? total : (perAddress.get(address) ?? 0)) };
}
