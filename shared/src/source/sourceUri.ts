import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';
import { err, ok, type Result } from '../errors/result.js';

export const SOURCE_URI_SCHEME = 'gloo://';

/** The parts of a `gloo.solo.io/distributed-source` value. `namespace` is absent for
 * cluster-scoped sources. */
export interface SourceUri {
  readonly mgmtCluster: string;
  readonly namespace?: string | undefined;
  readonly kind: string;
  readonly name: string;
}

/**
 * `gloo://<mgmt>/ns/<namespace>/kind/<Kind>/name/<name>`, or without `/ns/<namespace>` for a
 * cluster-scoped source (docs/spec.md §3). No escaping is done: callers pass Kubernetes names, which
 * never contain `/`, so the result always parses back to the same parts. An empty namespace is
 * treated as absent.
 */
export function formatSourceUri(uri: SourceUri): string {
  const ns = uri.namespace === undefined || uri.namespace === '' ? '' : `/ns/${uri.namespace}`;
  return `${SOURCE_URI_SCHEME}${uri.mgmtCluster}${ns}/kind/${uri.kind}/name/${uri.name}`;
}

/** Inverse of formatSourceUri. Every segment must be non-empty; nothing may follow the name. */
export function parseSourceUri(value: string): Result<SourceUri> {
  if (!value.startsWith(SOURCE_URI_SCHEME)) {
    return invalid(value, `must start with ${SOURCE_URI_SCHEME}`);
  }
  const segments = value.slice(SOURCE_URI_SCHEME.length).split('/');
  if (segments.some((segment) => segment === '')) {
    return invalid(value, 'has an empty segment');
  }
  const [mgmtCluster = '', ...rest] = segments;
  if (rest.length === 6 && rest[0] === 'ns' && rest[2] === 'kind' && rest[4] === 'name') {
    return ok({ mgmtCluster, namespace: rest[1], kind: rest[3] ?? '', name: rest[5] ?? '' });
  }
  if (rest.length === 4 && rest[0] === 'kind' && rest[2] === 'name') {
    return ok({ mgmtCluster, kind: rest[1] ?? '', name: rest[3] ?? '' });
  }
  return invalid(value, 'expected gloo://<cluster>[/ns/<namespace>]/kind/<kind>/name/<name>');
}

function invalid(value: string, reason: string): Result<SourceUri> {
  return err(
    new RelayError({
      code: ErrorCode.InvalidSourceUri,
      message: `distributed-source "${value}" ${reason}`,
      details: { value },
    }),
  );
}
