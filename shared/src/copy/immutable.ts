import { isJsonObject, type PathSegment } from './kubeObject.js';

/**
 * Freezes a JSON tree in place and returns it. Only for trees this package has just built (never
 * a caller's object): a frozen copy cannot be changed by a consumer after it has been hashed, which
 * is what makes memoizing hashes by identity safe. A frozen node is assumed to have a frozen
 * subtree (true of every tree frozen here), so shared subtrees are not walked again.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) {
    return value;
  }
  for (const child of Object.values(value)) {
    deepFreeze(child);
  }
  return Object.freeze(value);
}

/**
 * Returns a copy of `root` with `value` at `path`, copying only the objects and arrays along the
 * path (structural sharing); `root` is untouched. Every segment but the last must exist and be an
 * object (string segment) or an array (number segment); callers pass paths they found by walking
 * the same tree, so anything else is a bug and throws.
 */
export function setIn(root: unknown, path: readonly PathSegment[], value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) {
    return value;
  }
  if (typeof head === 'number') {
    if (!Array.isArray(root)) {
      throw new TypeError(`setIn: expected an array at [${head}]`);
    }
    const copy: unknown[] = [...root];
    copy[head] = setIn(root[head], rest, value);
    return Object.freeze(copy);
  }
  if (!isJsonObject(root)) {
    throw new TypeError(`setIn: expected an object at .${head}`);
  }
  return Object.freeze({ ...root, [head]: setIn(root[head], rest, value) });
}
