import { describe, expect, it } from 'vitest';
import { ErrorCode } from './errorCode.js';
import { isRelayError, RelayError, toRelayError } from './relayError.js';

describe('RelayError', () => {
  it('keeps code, message, cause and details', () => {
    const cause = new Error('boom');
    const error = new RelayError({
      code: ErrorCode.ApplyFailed,
      message: 'apply failed',
      cause,
      details: { cluster: 'qa' },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RelayError');
    expect(error.code).toBe('ApplyFailed');
    expect(error.message).toBe('apply failed');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ cluster: 'qa' });
    expect(Object.isFrozen(error.details)).toBe(true);
  });

  it('has empty details and no cause when none are given', () => {
    const error = new RelayError({ code: ErrorCode.Internal, message: 'x' });
    expect(error.details).toEqual({});
    expect('cause' in error).toBe(false);
  });

  it('does not share the caller details object', () => {
    const details: Record<string, string> = { entry: 'qa' };
    const error = new RelayError({ code: ErrorCode.Internal, message: 'x', details });
    details.entry = 'changed';
    expect(error.details).toEqual({ entry: 'qa' });
  });
});

describe('toRelayError', () => {
  const relay = new RelayError({ code: ErrorCode.Conflict, message: 'taken' });
  const plain = new TypeError('bad type');

  it.each([
    {
      name: 'RelayError is returned as is',
      input: relay,
      code: 'Conflict',
      message: 'taken',
      cause: undefined,
    },
    {
      name: 'Error gets Internal and keeps the cause',
      input: plain,
      code: 'Internal',
      message: 'bad type',
      cause: plain,
    },
    { name: 'string is stringified', input: 'oops', code: 'Internal', message: 'oops', cause: 'oops' },
  ])('$name', ({ input, code, message, cause }) => {
    const result = toRelayError(input);
    expect(isRelayError(result)).toBe(true);
    expect(result.code).toBe(code);
    expect(result.message).toBe(message);
    expect(result.cause).toBe(cause);
    if (input === relay) {
      expect(result).toBe(relay);
    }
  });

  it('uses the given code and message for foreign errors', () => {
    const result = toRelayError(plain, { code: ErrorCode.InvalidMessage, message: 'decode failed' });
    expect(result.code).toBe('InvalidMessage');
    expect(result.message).toBe('decode failed');
    expect(result.cause).toBe(plain);
  });

  it('isRelayError rejects non-relay values', () => {
    expect(isRelayError(plain)).toBe(false);
    expect(isRelayError({ code: 'Internal', message: 'x' })).toBe(false);
  });
});
