import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../copy/kubeObject.js';
import {
  copyPolicy,
  DEFAULT_POLICY,
  DriftMode,
  IGNORE_FIELDS_LIMITS,
  policyToken,
  sourcePolicy,
} from './copyPolicy.js';

const source = (annotations: Record<string, string>): KubeObject => ({
  apiVersion: 'gloo.solo.io/v1',
  kind: 'Upstream',
  metadata: { name: 'u', namespace: 'ns', annotations },
});
const read = (annotations: Record<string, string>) => sourcePolicy(source(annotations));
const messages = (annotations: Record<string, string>) => read(annotations).errors.map((e) => e.message);

describe('sourcePolicy', () => {
  it('is the default, with no token, when no annotation is set', () => {
    const { policy, errors } = read({});
    expect(policy).toBe(DEFAULT_POLICY);
    expect(errors).toEqual([]);
    expect(policyToken(policy)).toBe('');
  });

  it.each([
    [{ 'kuberelay.dev/paused': 'true' }, { paused: true }],
    [{ 'kuberelay.dev/paused': ' true ' }, { paused: true }],
    [{ 'kuberelay.dev/paused': 'false' }, { paused: false }],
    [{ 'kuberelay.dev/drift': 'report' }, { drift: DriftMode.Report }],
    [{ 'kuberelay.dev/drift': 'enforce' }, { drift: DriftMode.Enforce }],
  ])('reads %j', (annotations, expected) => {
    const { policy, errors } = read(annotations);
    expect(errors).toEqual([]);
    expect(policy).toMatchObject(expected);
  });

  it.each([
    ['spec.replicas, spec.hosts[*].weight', ['spec.hosts[*].weight', 'spec.replicas']],
    ['spec.replicas\nspec.a\n\n', ['spec.a', 'spec.replicas']],
    ['["spec.b", "spec.a", "spec.a"]', ['spec.a', 'spec.b']],
    ['metadata.annotations["a,b"], spec.x', ['metadata.annotations["a,b"]', 'spec.x']],
    ['$.spec.x', ['spec.x']],
  ])('reads ignore-fields %j, normalised, sorted, without duplicates', (value, expected) => {
    const { policy, errors } = read({ 'kuberelay.dev/ignore-fields': value });
    expect(errors).toEqual([]);
    expect(policy.ignoreFields).toEqual(expected);
  });

  it('refuses values it does not understand, each with the annotation and the value', () => {
    expect(messages({ 'kuberelay.dev/paused': 'yes' })).toEqual([
      'kuberelay.dev/paused "yes" is not one of "true", "false"',
    ]);
    expect(messages({ 'kuberelay.dev/drift': 'Report' })).toEqual([
      'kuberelay.dev/drift "Report" is not one of "enforce", "report"',
    ]);
    expect(messages({ 'kuberelay.dev/ignore-fields': 'spec.ok, status.x, spec..y' })).toEqual([
      'kuberelay.dev/ignore-fields: field path "status.x" names status: status is never compared or written by the relay',
      'kuberelay.dev/ignore-fields: field path "spec..y" has an unexpected "." at character 6',
    ]);
    expect(messages({ 'kuberelay.dev/ignore-fields': '["spec.a", 1]' })).toEqual([
      'kuberelay.dev/ignore-fields is not a JSON array of strings',
    ]);
  });

  it('reports every bad annotation at once', () => {
    expect(messages({ 'kuberelay.dev/paused': 'on', 'kuberelay.dev/drift': 'off' })).toHaveLength(2);
  });

  it('is bounded before anything is parsed', () => {
    const many = Array.from({ length: IGNORE_FIELDS_LIMITS.paths + 1 }, (_, i) => `spec.f${i}`).join(',');
    expect(messages({ 'kuberelay.dev/ignore-fields': many })[0]).toContain('more than 64 paths');
    const long = `spec.${'a'.repeat(IGNORE_FIELDS_LIMITS.characters)}`;
    expect(messages({ 'kuberelay.dev/ignore-fields': long })[0]).toContain('longer than 8192 characters');
  });
});

describe('policyToken', () => {
  it('differs for every setting, and is stable', () => {
    const tokens = [
      DEFAULT_POLICY,
      copyPolicy({ paused: true }),
      copyPolicy({ drift: DriftMode.Report }),
      copyPolicy({ ignoreFields: ['spec.a'] }),
      copyPolicy({ ignoreFields: ['spec.b'] }),
      copyPolicy({ paused: true, drift: DriftMode.Report, ignoreFields: ['spec.a'] }),
    ].map(policyToken);
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(policyToken(copyPolicy({ ignoreFields: ['spec.b', 'spec.a'] }))).toBe(
      policyToken(copyPolicy({ ignoreFields: ['spec.a', 'spec.b'] })),
    );
    expect(copyPolicy({})).toBe(DEFAULT_POLICY);
  });
});
