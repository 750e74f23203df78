import type { KubeObject } from '@kuberelay/shared';
import { describe, expect, it } from 'vitest';
import { AGENT, receivedCopyOf, upstreamCopyObject } from './copies.testkit.js';
import { creationBody, replacementBody } from './writeBodies.js';

const object = upstreamCopyObject;
const copy = receivedCopyOf(object, { hash: 'h2' });

const entry = (manager: string, fieldsV1: unknown, subresource?: string) => ({
  manager,
  operation: 'Update',
  apiVersion: 'gloo.solo.io/v1',
  fieldsType: 'FieldsV1',
  fieldsV1,
  ...(subresource === undefined ? {} : { subresource }),
});

describe('creationBody', () => {
  it('is the copy stamped with its hash', () => {
    expect(creationBody(copy)).toEqual({
      ...object,
      metadata: {
        ...object.metadata,
        annotations: { ...object.metadata.annotations, 'kuberelay.dev/copy-hash': 'h2' },
      },
    });
  });
});

describe('replacementBody', () => {
  const liveStatus = { statuses: { 'gloo-system': { state: 'Accepted', reportedBy: 'gloo' } } };
  const live: KubeObject = {
    ...object,
    metadata: {
      ...object.metadata,
      labels: { ...object.metadata.labels, stale: 'x' },
      resourceVersion: '41',
      finalizers: ['example.com/cleanup'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'o1' }],
      managedFields: [
        entry(AGENT, { 'f:spec': { 'f:static': {} } }),
        // Gloo writes status through the main resource (its CRDs have no status subresource).
        entry('gloo', { 'f:status': { 'f:statuses': {} } }),
        entry('kubectl-edit', { 'f:spec': { 'f:useHttp2': {} }, 'f:status': { 'f:note': {} } }),
        entry('someone', { 'f:spec': { 'f:sslConfig': {} } }),
        entry('status-writer', { 'f:status': { 'f:x': {} } }, 'status'),
      ],
    },
    spec: { ...(object.spec as object), useHttp2: true },
    status: liveStatus,
  };
  const body = replacementBody(copy, live, AGENT);

  it('replaces spec, labels and annotations with the copy (a stale label goes)', () => {
    expect(body.spec).toEqual(object.spec);
    expect(body.metadata.labels).toEqual(object.metadata.labels);
    expect(body.metadata.annotations).toEqual({
      ...object.metadata.annotations,
      'kuberelay.dev/copy-hash': 'h2',
    });
    expect(body.metadata.resourceVersion).toBe('41');
  });

  it('keeps the live status, finalizers and owner references', () => {
    expect(body.status).toEqual(liveStatus);
    expect(body.metadata.finalizers).toEqual(live.metadata.finalizers);
    expect(body.metadata.ownerReferences).toEqual(live.metadata.ownerReferences);
  });

  it("keeps who wrote the status, and drops others' ownership of what the copy replaces", () => {
    expect(body.metadata.managedFields).toEqual([
      entry(AGENT, { 'f:spec': { 'f:static': {} } }),
      entry('gloo', { 'f:status': { 'f:statuses': {} } }),
      entry('kubectl-edit', { 'f:status': { 'f:note': {} } }),
      entry('status-writer', { 'f:status': { 'f:x': {} } }, 'status'),
    ]);
  });

  it('sends no managedFields when no other manager owns anything of the main resource', () => {
    const mine = { ...live, metadata: { ...live.metadata, managedFields: [entry(AGENT, {})] } };
    expect(replacementBody(copy, mine, AGENT).metadata.managedFields).toBeUndefined();
  });

  it('claims ownership when only others owned the object (a take-over)', () => {
    const theirs = { ...live, metadata: { ...live.metadata, managedFields: [entry('someone', {})] } };
    expect(replacementBody(copy, theirs, AGENT).metadata.managedFields).toEqual([
      expect.objectContaining({ manager: AGENT }),
    ]);
  });

  it('keeps labels and annotations only another manager set; drops those the agent set and the source dropped', () => {
    const ours = entry(AGENT, {
      'f:metadata': { 'f:labels': { 'f:team': {} }, 'f:annotations': { 'f:note': {} } },
    });
    const withMetadata: KubeObject = {
      ...live,
      metadata: {
        ...live.metadata,
        labels: { ...object.metadata.labels, team: 'edge', 'argocd.argoproj.io/instance': 'x' },
        annotations: { ...object.metadata.annotations, note: 'old', 'example.com/checked': 'yes' },
        managedFields: [
          ours,
          entry('argocd', {
            'f:metadata': { 'f:labels': { 'f:argocd.argoproj.io/instance': {} } },
            'f:spec': { 'f:x': {} },
          }),
          entry('checker', { 'f:metadata': { 'f:annotations': { 'f:example.com/checked': {} } } }),
        ],
      },
    };
    const replaced = replacementBody(copy, withMetadata, AGENT);
    expect(replaced.metadata.labels).toEqual({
      ...object.metadata.labels,
      'argocd.argoproj.io/instance': 'x',
    });
    expect(replaced.metadata.annotations).toEqual({
      ...object.metadata.annotations,
      'example.com/checked': 'yes',
      'kuberelay.dev/copy-hash': 'h2',
    });
    // Their ownership of what stays is kept, of what goes (their spec field) dropped.
    expect(replaced.metadata.managedFields).toEqual([
      ours,
      entry('argocd', { 'f:metadata': { 'f:labels': { 'f:argocd.argoproj.io/instance': {} } } }),
      entry('checker', { 'f:metadata': { 'f:annotations': { 'f:example.com/checked': {} } } }),
    ]);
  });

  it('sends no status when live has none', () => {
    const { status: _s, ...noStatus } = live;
    expect('status' in replacementBody(copy, noStatus as KubeObject, AGENT)).toBe(false);
  });
});
