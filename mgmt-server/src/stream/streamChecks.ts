import type { ConnectRequest, Hello } from '@kuberelay/proto';
import { ErrorCode, type Result } from '@kuberelay/shared';
import type { Identity } from '../auth/authenticator.js';
import { StreamEndCode, StreamError } from './streamError.js';
import type { StreamCertificates } from './streamOptions.js';

// The decisions of an agent stream that need no I/O: is the first message an acceptable Hello,
// is the agent still alive and still who it was, and how a renewal answers. Pure or nearly
// (renewOnStream only calls the certificate service it is given).

export type HelloCheck =
  | { readonly ok: true; readonly hello: Hello }
  | { readonly ok: false; readonly error: StreamError; readonly claimed: string | undefined };

/**
 * The first message must be a Hello naming the cluster the credentials authenticated, and that
 * cluster must be registered (docs/spec.md §5). `first` is undefined when something other than a
 * message came first (the Hello deadline passed).
 */
export function checkHello(input: {
  readonly first: ConnectRequest | undefined;
  readonly cluster: string;
  readonly registered: boolean;
}): HelloCheck {
  const message = input.first?.message;
  if (message?.$case !== 'hello') {
    const what = input.first === undefined ? 'no message' : `a ${message?.$case ?? 'empty'} message`;
    return refused(
      undefined,
      StreamEndCode.InvalidArgument,
      `the first message must be a Hello, got ${what}`,
    );
  }
  const hello = message.value;
  if (hello.cluster !== input.cluster) {
    return refused(
      hello.cluster,
      StreamEndCode.PermissionDenied,
      `the credentials belong to cluster "${input.cluster}", not "${hello.cluster}"`,
    );
  }
  if (!input.registered) {
    return refused(
      hello.cluster,
      StreamEndCode.PermissionDenied,
      `cluster "${input.cluster}" is not registered (no KubernetesCluster ${input.cluster})`,
    );
  }
  return { ok: true, hello };
}

/**
 * On every heartbeat tick: an agent silent for 3 heartbeats is gone, and credentials that no
 * longer authenticate as the same cluster and registration end the stream.
 */
export function checkAlive(input: {
  readonly now: number;
  readonly lastHeard: number;
  readonly heartbeatSeconds: number;
  readonly identity: Result<Identity>;
  readonly cluster: string;
  readonly uid: string | undefined;
}): StreamError | undefined {
  const silentMs = input.now - input.lastHeard;
  if (silentMs >= 3 * input.heartbeatSeconds * 1000) {
    return new StreamError({
      code: StreamEndCode.PeerSilent,
      message: `nothing heard from the agent for ${Math.round(silentMs / 1000)} s (3 heartbeats)`,
    });
  }
  const { identity } = input;
  if (!identity.ok || identity.value.cluster !== input.cluster || identity.value.uid !== input.uid) {
    return new StreamError({
      code: identity.ok ? StreamEndCode.Unauthenticated : toEndCode(identity.errors[0].code),
      message: `the credentials are no longer valid${identity.ok ? '' : `: ${identity.errors[0].message}`}`,
    });
  }
  return undefined;
}

/**
 * Signs a new certificate for the cluster and registration this stream authenticated as (never
 * what the CSR asks for). The stream goes on with its current certificate; the agent reconnects
 * with the new one when it likes. A CSR that does not verify ends the stream: the agent is buggy
 * or is not the key holder.
 */
export async function renewOnStream(input: {
  readonly certificates: StreamCertificates | undefined;
  readonly cluster: string;
  readonly uid: string | undefined;
  readonly csrPem: string;
}): Promise<{ readonly certificatePem: string; readonly caBundlePem: string } | StreamError> {
  const { certificates, uid } = input;
  if (certificates === undefined || uid === undefined) {
    return new StreamError({
      code: StreamEndCode.InvalidArgument,
      message: 'certificate renewal is only available to agents authenticated by a client certificate',
    });
  }
  const issued = await certificates.renew({ cluster: input.cluster, uid, csrPem: input.csrPem });
  if (!issued.ok) {
    const error = issued.errors[0];
    return new StreamError({
      code: error.code === ErrorCode.InvalidMessage ? StreamEndCode.InvalidArgument : StreamEndCode.Internal,
      message: `renewal failed: ${error.message}`,
    });
  }
  return issued.value;
}

/** The end code of a refused authentication. */
export function toEndCode(code: ErrorCode): StreamEndCode {
  return code === ErrorCode.PermissionDenied ? StreamEndCode.PermissionDenied : StreamEndCode.Unauthenticated;
}

function refused(claimed: string | undefined, code: StreamEndCode, message: string): HelloCheck {
  return { ok: false, claimed, error: new StreamError({ code, message }) };
}
