import { ErrorCode, RelayError } from '@kuberelay/shared';
import { type KubeRequest, KubeRest } from '@kuberelay/shared/kube';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * The KubeRest every copy write goes through when replicas elect a leader: a request that would
 * change the workload cluster (anything but GET) is sent only while `mayWrite()` says so, checked
 * synchronously right before the request leaves. The elector's own step-down may run late (a
 * stalled event loop); this check reads the clock itself, so no write leaves after the renew
 * deadline, when a standby may be about to take over. Reads always go through: they change nothing.
 */
export class FencedKubeRest extends KubeRest {
  readonly #mayWrite: () => boolean;

  constructor(kubeConfig: KubeConfig, mayWrite: () => boolean) {
    super(kubeConfig);
    this.#mayWrite = mayWrite;
  }

  override request<T>(req: KubeRequest): Promise<T> {
    if (req.method !== 'GET' && !this.#mayWrite()) {
      return Promise.reject(
        new RelayError({
          code: ErrorCode.NotLeader,
          message: `${req.method} ${req.path} not sent: this agent replica does not lead (any more)`,
        }),
      );
    }
    return super.request<T>(req);
  }
}
