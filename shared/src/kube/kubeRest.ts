import { HttpMethod, type KubeConfig, RequestContext } from '@kubernetes/client-node';
import { type Dispatcher, fetch } from 'undici';
import { ErrorCode } from '../errors/errorCode.js';
import { RelayError } from '../errors/relayError.js';

/**
 * A resource collection or object on an API server. `group` is '' for the core API.
 * Invariant: `plural` is the REST resource name (e.g. `httproutes`), never the Kind.
 */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly subresource?: string | undefined;
}

/** The REST path of a collection or object: `/api/v1/...` for core, `/apis/<group>/<version>/...` otherwise. */
export function resourcePath(ref: ResourceRef): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const name = ref.name ? `/${encodeURIComponent(ref.name)}` : '';
  const sub = ref.name && ref.subresource ? `/${ref.subresource}` : '';
  return `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** A Kubernetes `Status` the API server answered with, carried as an error with its HTTP code. */
export class KubeApiError extends Error {
  readonly status: number;
  /** The Status reason: NotFound, AlreadyExists, Conflict, Invalid, Forbidden, Expired, ... */
  readonly reason: string;
  readonly details: unknown;

  constructor(options: {
    status: number;
    reason: string;
    message: string;
    details?: unknown;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = 'KubeApiError';
    this.status = options.status;
    this.reason = options.reason;
    this.details = options.details;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.status === 410;

export const ContentType = {
  json: 'application/json',
  mergePatch: 'application/merge-patch+json',
  jsonPatch: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export interface KubeRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: ContentType;
  /** The Accept header (default application/json), e.g. to ask for PartialObjectMetadata. */
  readonly accept?: string;
  readonly signal?: AbortSignal;
  /** Give up after this long (default 30 s); a hung API server must not hang the caller. */
  readonly timeoutMs?: number;
}

/**
 * How long one connection pool is reused before the next request takes a fresh one (and the old
 * pool closes once its requests, watches included, are done): client certificates and CAs read
 * from files are picked up within this long after they rotate.
 */
const DISPATCHER_REUSE_MS = 5 * 60_000;

/** A streamed response body (a watch). */
export interface KubeStream {
  readonly status: number;
  readonly body: AsyncIterable<Uint8Array>;
}

/** One answer the API server gave (its headers; the body may still be arriving). */
export interface KubeResponseInfo {
  readonly method: KubeRequest['method'];
  readonly status: number;
}

export interface KubeRestOptions {
  /** Called for every response, watches included: what the relay costs the API server. */
  readonly onResponse?: (response: KubeResponseInfo) => void;
}

/**
 * The one place Kuberelay sends HTTP to an API server: any path, any verb, authenticated the way
 * the KubeConfig says (client-node's auth and TLS), errors turned into {@link KubeApiError}.
 * Generic on purpose: the relay handles arbitrary custom kinds, for which client-node has no typed API.
 */
export class KubeRest {
  readonly #kc: KubeConfig;
  readonly #onResponse: ((response: KubeResponseInfo) => void) | undefined;
  #pool: { readonly key: string; readonly dispatcher: Dispatcher; readonly since: number } | undefined;

  constructor(kc: KubeConfig, options: KubeRestOptions = {}) {
    this.#kc = kc;
    this.#onResponse = options.onResponse;
  }

  get server(): string {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) {
      throw new RelayError({
        code: ErrorCode.InvalidConfig,
        message: 'the kubeconfig has no current cluster',
      });
    }
    return cluster.server;
  }

  /**
   * Sends one request and returns the JSON body. `T` is what the caller expects of the API
   * server's answer; it is not checked here beyond "valid JSON" (callers that act on outside data
   * validate the fields they read). A body that is not JSON is a KubeApiError (`InvalidResponse`),
   * never a bare SyntaxError.
   */
  async request<T>(req: KubeRequest): Promise<T> {
    const res = await this.#send(req, false);
    const text = await res.text();
    if (res.status >= 400) throw toApiError(res.status, text, req);
    if (!text) return undefined as T;
    const parsed = parseJson(text);
    if (parsed === undefined) {
      throw new KubeApiError({
        status: res.status,
        reason: 'InvalidResponse',
        message: `${req.method} ${req.path}: the API server answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`,
      });
    }
    return parsed.value as T;
  }

  /** Opens a streaming GET (used for watches); the caller reads `body` and aborts via `signal`. */
  async stream(req: Omit<KubeRequest, 'method' | 'body' | 'contentType'>): Promise<KubeStream> {
    const res = await this.#send({ ...req, method: 'GET' }, true);
    if (res.status >= 400) throw toApiError(res.status, await res.text(), { ...req, method: 'GET' });
    if (!res.body)
      throw new KubeApiError({
        status: res.status,
        reason: 'NoBody',
        message: `${req.path}: empty watch response`,
      });
    return { status: res.status, body: res.body };
  }

  async #send(req: KubeRequest, streaming: boolean) {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const ctx = new RequestContext(url.toString(), HttpMethod[req.method]);
    await this.#kc.applySecurityAuthentication(ctx);
    const headers: Record<string, string> = { ...ctx.getHeaders(), accept: req.accept ?? 'application/json' };
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = req.contentType ?? ContentType.json;
      body = JSON.stringify(req.body);
    }
    // Streams (watches) end when the caller aborts; plain requests get a deadline.
    const signals = [req.signal, streaming ? undefined : AbortSignal.timeout(req.timeoutMs ?? 30_000)].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const res = await fetch(url, {
      method: req.method,
      headers,
      body,
      dispatcher: this.#dispatcher(ctx.getDispatcher()),
      signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    });
    this.#onResponse?.({ method: req.method, status: res.status });
    return res;
  }

  /**
   * client-node builds a new undici Agent for every request, so every request paid a TCP and TLS
   * handshake (12.0 ms mean against 4.9 ms over one keep-alive connection, issue 10). The first
   * one is kept and reused while the TLS identity it was made for is the kubeconfig's current one.
   */
  #dispatcher(fresh: Dispatcher | undefined): Dispatcher | undefined {
    if (fresh === undefined) return undefined;
    const key = tlsIdentity(this.#kc);
    const now = Date.now();
    const pool = this.#pool;
    if (pool !== undefined && pool.key === key && now - pool.since < DISPATCHER_REUSE_MS) {
      // Unused, it holds no socket; closing it says so.
      void fresh.close().catch(() => {});
      return pool.dispatcher;
    }
    if (pool !== undefined) void pool.dispatcher.close().catch(() => {});
    this.#pool = { key, dispatcher: fresh, since: now };
    return fresh;
  }
}

/** What the TLS side of a connection depends on: the current cluster and user's TLS material. */
function tlsIdentity(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  return JSON.stringify([
    cluster?.server,
    cluster?.caData,
    cluster?.caFile,
    cluster?.skipTLSVerify,
    cluster?.tlsServerName,
    cluster?.proxyUrl,
    user?.certData,
    user?.certFile,
    user?.keyData,
    user?.keyFile,
  ]);
}

function toApiError(status: number, text: string, req: Pick<KubeRequest, 'method' | 'path'>): KubeApiError {
  // A metav1.Status when the API server answered; anything else (a proxy's HTML, an empty body)
  // is described by its HTTP status and the first bytes.
  const s = parseJson(text)?.value;
  if (typeof s === 'object' && s !== null && !Array.isArray(s) && 'kind' in s && s.kind === 'Status') {
    const field = (name: string): string | undefined => {
      const value: unknown = (s as Record<string, unknown>)[name];
      return typeof value === 'string' && value !== '' ? value : undefined;
    };
    return new KubeApiError({
      status,
      reason: field('reason') ?? 'Unknown',
      message: field('message') ?? text,
      details: (s as Record<string, unknown>).details,
    });
  }
  return new KubeApiError({
    status,
    reason: 'Unknown',
    message: `${req.method} ${req.path}: HTTP ${status} ${text.slice(0, 200)}`,
  });
}

function parseJson(text: string): { readonly value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}
