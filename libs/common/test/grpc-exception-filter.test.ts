import { status } from '@grpc/grpc-js';
import { ApiError } from '../src/api/errors/api-error';
import {
  ERRORS_TRAILER,
  GrpcExceptionFilter,
  MAX_TRAILER_BYTES,
  wellFormed,
} from '../src/api/errors/grpc-exception.filter';

// Found by the API fuzz test (seed 267229189): a 70,000-character label key came
// back in the trailers, over every client's header limit, and the client's
// connection was torn down with every call on it.
test('trailers stay small whatever the field names: long ones are cut, extra errors summed up', () => {
  const filter = new GrpcExceptionFilter();
  const long = `selector.labels.${'x'.repeat(70_000)}`;
  const errors = [
    { field: long, reason: 'is not a valid label key' },
    ...Array.from({ length: 500 }, (_, i) => ({
      field: `tasks[${i}].type`,
      reason: 'is required',
    })),
  ];
  const error = filter.grpcErrorFor(ApiError.invalid(errors, 'invalid', errors.length));

  expect(error.code).toBe(status.INVALID_ARGUMENT);
  const trailer = error.metadata.get(ERRORS_TRAILER)[0] as Buffer;
  expect(trailer.length).toBeLessThanOrEqual(MAX_TRAILER_BYTES);
  const reported = JSON.parse(trailer.toString()) as Array<{ field: string; reason: string }>;
  expect(reported[0].field.startsWith('selector.labels.xxx')).toBe(true);
  expect(reported[0].field.length).toBeLessThanOrEqual(100);
  expect(reported.at(-1)).toEqual({
    field: '',
    reason: expect.stringMatching(/^has \d+ more errors$/),
  });
  expect(Buffer.byteLength(error.details)).toBeLessThanOrEqual(1_000 + 3);
  expect(error.details.startsWith('invalid request: selector.labels.xxx')).toBe(true);
});

test('small errors pass unchanged', () => {
  const errors = [{ field: 'type', reason: 'is required' }];
  const error = new GrpcExceptionFilter().grpcErrorFor(ApiError.invalid(errors, 'invalid', 1));
  expect(JSON.parse((error.metadata.get(ERRORS_TRAILER)[0] as Buffer).toString())).toEqual(errors);
  expect(error.details).toBe('invalid request: type is required');
});

// Found by the API fuzz test (seed 960445455): a lone surrogate in a message
// made grpc-js's encodeURI of `grpc-message` throw outside any handler, and the
// scheduler process died.
test('lone surrogates in the details become U+FFFD, so grpc-message can be encoded', () => {
  const errors = [{ field: 'x\udfffy', reason: 'is not a known field' }];
  const error = new GrpcExceptionFilter().grpcErrorFor(ApiError.invalid(errors, 'invalid', 1));
  expect(() => encodeURI(error.details)).not.toThrow();
  expect(error.details).toBe('invalid request: x\ufffdy is not a known field');
  // A cut through a surrogate pair leaves no half behind either.
  const long = [{ field: 'f', reason: '\u{1F984}'.repeat(600) }];
  const cut = new GrpcExceptionFilter().grpcErrorFor(ApiError.invalid(long, 'invalid', 1));
  expect(() => encodeURI(cut.details)).not.toThrow();
  expect(wellFormed('a\ud800')).toBe('a\ufffd');
  expect(wellFormed('\u{1F984}')).toBe('\u{1F984}');
});
