import { describe, expect, it } from 'vitest';
import { globProblem, splitEntries } from './globSyntax.js';

describe('splitEntries', () => {
  it.each([
    { value: '', entries: [''] },
    { value: 'qa, canary', entries: ['qa', ' canary'] },
    { value: '{qa,canary}/edge,prod', entries: ['{qa,canary}/edge', 'prod'] },
    { value: '{a,{b,c}},d', entries: ['{a,{b,c}}', 'd'] },
    { value: '[a,b]x,y', entries: ['[a,b]x', 'y'] },
    { value: '[],]x,y', entries: ['[],]x', 'y'] },
    { value: '[!],]x,y', entries: ['[!],]x', 'y'] },
    { value: 'a\\,b,c', entries: ['a\\,b', 'c'] },
    { value: 'qa},canary', entries: ['qa}', 'canary'] },
    { value: '{qa,canary', entries: ['{qa,canary'] },
    { value: 'qa,,canary,', entries: ['qa', '', 'canary', ''] },
  ])('$value', ({ value, entries }) => {
    expect(splitEntries(value)).toEqual(entries);
  });
});

describe('globProblem', () => {
  it.each([
    { pattern: 'qa', problem: undefined },
    { pattern: '*', problem: undefined },
    { pattern: 'prod-*', problem: undefined },
    { pattern: '{qa,canary}', problem: undefined },
    { pattern: '[a-c]*', problem: undefined },
    { pattern: '[]]x', problem: undefined },
    { pattern: '[^]]x', problem: undefined },
    { pattern: '@(qa|canary)', problem: undefined },
    { pattern: 'q\\{a', problem: undefined },
    { pattern: '', problem: 'is empty' },
    { pattern: 'qa canary', problem: 'contains white space (a missing comma?)' },
    { pattern: '{qa,canary', problem: 'has a "{" without a matching "}"' },
    { pattern: 'qa}', problem: 'has a "}" without a matching "{"' },
    { pattern: '[abc', problem: 'has a "[" without a matching "]"' },
    { pattern: '[]', problem: 'has a "[" without a matching "]"' },
    { pattern: 'a]', problem: 'has a "]" without a matching "["' },
    { pattern: '@(a', problem: 'has a "(" without a matching ")"' },
    { pattern: 'a)', problem: 'has a ")" without a matching "("' },
    { pattern: 'qa\\', problem: 'ends with the escape character "\\"' },
    { pattern: '[{]', problem: undefined },
  ])('$pattern → $problem', ({ pattern, problem }) => {
    expect(globProblem(pattern)).toBe(problem);
  });
});
