import { describe, expect, it } from 'vitest';
import { objectKey, objectRefOf, sourceRefOf } from './objectRef.js';

describe('objectKey', () => {
  it.each([
    {
      ref: { group: 'gloo.solo.io', kind: 'Upstream', namespace: 'httpbin', name: 'a' },
      key: 'gloo.solo.io/Upstream/httpbin/a',
    },
    {
      ref: { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', namespace: undefined, name: 'c' },
      key: 'gateway.networking.k8s.io/GatewayClass//c',
    },
    { ref: { group: '', kind: 'ConfigMap', namespace: 'x', name: 'y' }, key: '/ConfigMap/x/y' },
  ])('$key', ({ ref, key }) => {
    expect(objectKey(ref)).toBe(key);
  });
});

describe('objectRefOf / sourceRefOf', () => {
  it.each([
    {
      object: {
        apiVersion: 'gloo.solo.io/v1',
        kind: 'Upstream',
        metadata: { name: 'u', namespace: 'gloo-mesh' },
      },
      namespaced: true,
      ref: { group: 'gloo.solo.io', kind: 'Upstream', namespace: 'gloo-mesh', name: 'u' },
      source: { group: 'gloo.solo.io', kind: 'Upstream', namespace: 'gloo-mesh', name: 'u' },
    },
    {
      object: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'c', namespace: 'stray' },
      },
      namespaced: false,
      ref: { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', namespace: 'stray', name: 'c' },
      source: { group: 'gateway.networking.k8s.io', kind: 'GatewayClass', namespace: undefined, name: 'c' },
    },
    {
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm', namespace: '' } },
      namespaced: true,
      ref: { group: '', kind: 'ConfigMap', namespace: undefined, name: 'm' },
      source: { group: '', kind: 'ConfigMap', namespace: undefined, name: 'm' },
    },
  ])('$object.kind', ({ object, namespaced, ref, source }) => {
    expect(objectRefOf(object)).toEqual(ref);
    expect(sourceRefOf(object, { namespaced })).toEqual(source);
  });
});
