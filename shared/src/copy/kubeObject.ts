/** A JSON value as found in Kubernetes objects. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** A JSON object whose values have not been checked yet. */
export type JsonObject = { readonly [key: string]: unknown };

/** The metadata fields the relay reads; every other field is carried as unknown JSON. */
export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/**
 * A Kubernetes object as plain JSON (what an informer or the API returns). Invariant for everything
 * in this package: objects are values, never mutated once built or received; functions return new
 * objects and share unchanged parts.
 */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ObjectMeta;
  readonly [field: string]: unknown;
}

/** A plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A key into a JSON tree: an object field or an array index. */
export type PathSegment = string | number;

/** `spec.rules[0].backendRefs[1]`: how a location is shown to people. */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : i === 0 ? segment : `.${segment}`))
    .join('');
}
