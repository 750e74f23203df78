import type { Copy } from '@kuberelay/proto';
import { contentHash, formatSourceUri, type KubeObject, objectKey, objectRefOf } from '@kuberelay/shared';

// Copies as the management server would send them, for tests that drive a real agent without one.

export const MGMT = 'mgmt-e2e';

/** A copy as the management server would build it (docs/spec.md §3 labels and annotation). */
export function buildTestCopy(options: {
  readonly object: KubeObject;
  readonly sourceNamespace?: string;
  readonly overwrite?: boolean;
  readonly mgmtCluster?: string;
}): Copy {
  const mgmtCluster = options.mgmtCluster ?? MGMT;
  const { object } = options;
  const copy: KubeObject = {
    ...object,
    metadata: {
      ...object.metadata,
      labels: {
        ...object.metadata.labels,
        'app.kubernetes.io/managed-by': 'kuberelay-agent',
        'relay.solo.io/cluster': mgmtCluster,
      },
      annotations: {
        ...object.metadata.annotations,
        'gloo.solo.io/distributed-source': formatSourceUri({
          mgmtCluster,
          namespace:
            object.metadata.namespace === undefined ? undefined : (options.sourceNamespace ?? 'source-ns'),
          kind: object.kind,
          name: object.metadata.name,
        }),
      },
    },
  };
  return {
    key: objectKey(objectRefOf(copy)),
    hash: contentHash(copy),
    manifest: Buffer.from(JSON.stringify(copy)),
    overwrite: options.overwrite ?? false,
    policy: undefined,
  };
}
