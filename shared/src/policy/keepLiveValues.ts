import { isJsonObject } from '../copy/kubeObject.js';
import { ANY_INDEX, type FieldPath } from './fieldPath.js';

// `kuberelay.dev/ignore-fields` on the write side (docs/spec.md D10.3): a replace of a copy
// carries the live object's value at every ignored path, so what a controller in the workload
// cluster manages there (an autoscaler's replicas, a webhook's annotation) survives a write made
// for another reason. relayctl plan compares a copy with its live object the same way. Pure.

/**
 * `body` with, at each ignored path, live's value (or nothing, where live has none). A path
 * through a list element that body or live lacks is left as body has it: an index that exists on
 * one side only names nothing to keep.
 */
export function keepLiveValues(
  body: Record<string, unknown>,
  live: Record<string, unknown>,
  ignored: readonly FieldPath[],
): Record<string, unknown> {
  let result: unknown = body;
  for (const path of ignored) result = keep(result, live, path);
  return result as Record<string, unknown>;
}

function keep(body: unknown, live: unknown, path: FieldPath): unknown {
  const [step, ...rest] = path;
  if (step === undefined) return live;
  if (step === ANY_INDEX || typeof step === 'number') {
    if (!Array.isArray(body) || !Array.isArray(live)) return body;
    return body.map((item: unknown, i) =>
      (step === ANY_INDEX || step === i) && i < live.length ? keepOrDrop(item, live[i], rest) : item,
    );
  }
  const liveChild = isJsonObject(live) ? live[step] : undefined;
  if (!isJsonObject(body)) {
    // Live has something under a map the copy does not set at all: build that map to hold it.
    return body === undefined && liveChild !== undefined ? keep({}, live, path) : body;
  }
  const child = keep(body[step], liveChild, rest);
  const out: Record<string, unknown> = { ...body };
  if (child === undefined) delete out[step];
  else out[step] = child;
  return out;
}

/** An element of a list cannot be dropped (the indices after it would move): keep it then. */
function keepOrDrop(item: unknown, live: unknown, rest: FieldPath): unknown {
  return keep(item, live, rest) ?? item;
}
