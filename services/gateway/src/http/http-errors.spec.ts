import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { ContractError, ERROR_CODES } from '@heroagent/contracts';
import { httpStatusOf, toHttpError } from './http-errors.js';

describe('HTTP error mapping', () => {
  it('gives every error code an HTTP status', () => {
    for (const code of ERROR_CODES) {
      const status = httpStatusOf(code);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
    expect(httpStatusOf('POLICY_DENIED')).toBe(403);
    expect(httpStatusOf('INVALID_REQUEST')).toBe(400);
    expect(httpStatusOf('TIMEOUT')).toBe(504);
    expect(httpStatusOf('MODEL_UNAVAILABLE')).toBe(503);
  });

  it('keeps the code and message of a ContractError', () => {
    expect(toHttpError(new ContractError('RATE_LIMITED', 'slow down'))).toEqual({
      status: 429,
      body: { code: 'RATE_LIMITED', message: 'slow down' },
    });
  });

  it('codes Nest and body-parser errors by status', () => {
    expect(toHttpError(new NotFoundException('Cannot GET /x')).body).toEqual({
      code: 'NOT_FOUND',
      message: 'Cannot GET /x',
    });
    expect(toHttpError(new BadRequestException()).body.code).toBe('INVALID_REQUEST');
    expect(
      toHttpError(Object.assign(new Error('too big'), { status: 413, type: 'entity.too.large' })),
    ).toEqual({
      status: 413,
      body: { code: 'INVALID_REQUEST', message: 'the request body is too large' },
    });
  });

  it('never echoes a server error or an unknown exception', () => {
    const secret = 'password authentication failed for user "heroagent" at postgres://x:hunter2@db';
    expect(toHttpError(new Error(secret))).toEqual({
      status: 500,
      body: { code: 'INTERNAL', message: 'internal error' },
    });
    expect(toHttpError(new HttpException(secret, 502)).body).toEqual({
      code: 'INTERNAL',
      message: 'internal error',
    });
    expect(toHttpError('a string').status).toBe(500);
  });
});
