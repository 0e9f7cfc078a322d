import { SeverityNumber } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { logRecordOfLine, mirrorToOtlp } from './otlp-logs.js';

describe('a log line as an OTLP log record', () => {
  it('keeps the message, the level and the fields (nested ones by dotted name)', () => {
    const record = logRecordOfLine(
      JSON.stringify({
        level: 'error',
        time: '2026-12-05T23:00:00.000Z',
        service: 'audit',
        msg: 'refused',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: '00f067aa0ba902b7',
        err: { type: 'Error', message: 'boom', details: { a: { b: { c: { d: 1 } } } } },
        tags: ['a', 'b'],
        counts: [1, 2],
        missing: null,
      }),
    );
    expect(record).toEqual({
      timestamp: new Date('2026-12-05T23:00:00.000Z'),
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: 'refused',
      attributes: {
        service: 'audit',
        'err.type': 'Error',
        'err.message': 'boom',
        // Five names deep at most; deeper is kept as JSON.
        'err.details.a.b.c': '{"d":1}',
        tags: ['a', 'b'],
        counts: '[1,2]',
      },
    });
  });

  it('still writes a line that is not JSON where it was going', () => {
    const written: string[] = [];
    const mirror = mirrorToOtlp({ write: (line: string) => void written.push(line) });
    mirror.write('not json\n');
    expect(written).toEqual(['not json\n']);
  });
});
