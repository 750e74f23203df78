import { describe, expect, it } from 'vitest';
import { dnsLabelProblem, isDnsLabel, isDnsSubdomain } from './kubeNames.js';

describe('dnsLabelProblem', () => {
  it.each([
    { value: 'gloo-system', problem: undefined },
    { value: 'a', problem: undefined },
    { value: '0abc9', problem: undefined },
    { value: 'a'.repeat(63), problem: undefined },
    { value: '', problem: 'must not be empty' },
    { value: 'a'.repeat(64), problem: 'must be no more than 63 characters (has 64)' },
    {
      value: 'Gloo',
      problem:
        "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    },
    {
      value: '-a',
      problem:
        "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    },
    {
      value: 'a-',
      problem:
        "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    },
    {
      value: 'a.b',
      problem:
        "must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
    },
  ])('$value → $problem', ({ value, problem }) => {
    expect(dnsLabelProblem(value)).toBe(problem);
    expect(isDnsLabel(value)).toBe(problem === undefined);
  });
});

describe('isDnsSubdomain', () => {
  it.each([
    { value: 'gateway.networking.k8s.io', expected: true },
    { value: 'prod-eu', expected: true },
    { value: `${'a'.repeat(63)}.${'b'.repeat(63)}`, expected: true },
    { value: '', expected: false },
    { value: 'a..b', expected: false },
    { value: '.a', expected: false },
    { value: 'A.b', expected: false },
    { value: 'a'.repeat(254), expected: false },
  ])('$value → $expected', ({ value, expected }) => {
    expect(isDnsSubdomain(value)).toBe(expected);
  });
});
