/**
 * The API's validation rules without a server: every field rule with its
 * reason, unknown fields, the JSON shape guard, and the CPU cost of validating
 * a batch of 1,000 tasks (the throughput path).
 */
import { MAX_PAYLOAD_BYTES, type FieldError } from '@app/contracts/dto/scheduler-api';
import { CreateJobDto, UpdateJobDto } from '../../src/api/dto/job.dto';
import { ListJobsQueryDto, ListTasksQueryDto } from '../../src/api/dto/query.dto';
import { SubmitTaskDto, SubmitTasksDto } from '../../src/api/dto/task.dto';
import { ApiError } from '@app/common/api';
import { patchedJobSpec } from '../../src/api/mapping/specs';
import { parseIsoDateTime } from '@app/common/api';
import { MAX_JSON_DEPTH } from '@app/common/api';
import { fastValidate } from '@app/common/api';
import type { DtoClass } from '@app/common/api';
import {
  hasConstraint,
  toFieldErrors,
  validateInput,
  validateWithClassValidator,
} from '@app/common/api';
import type { JobRecord } from '@app/contracts';

/** A valid runAt: a month ahead, whole seconds. */
const SOON = new Date(Math.floor(Date.now() / 1000) * 1000 + 30 * 86_400_000);

type Dto = Parameters<typeof validateInput>[0];

function problems(dto: Dto, plain: unknown): { kind: string; errors: readonly FieldError[] } {
  try {
    validateInput(dto, plain);
  } catch (error) {
    if (error instanceof ApiError) return { kind: error.kind, errors: error.errors };
    throw error;
  }
  return { kind: 'ok', errors: [] };
}

const job = { name: 'report', type: 'noop', schedule: '*/5 * * * *' };
const task = { type: 'noop' };

type Case = [name: string, body: Record<string, unknown>, field: string, reason: RegExp];

const JOB_CASES: Case[] = [
  ['missing name', { type: 'noop', schedule: '* * * * *' }, 'name', /^is required$/],
  ['name not a string', { ...job, name: 7 }, 'name', /^must be a string$/],
  ['empty name', { ...job, name: '' }, 'name', /^must be 1 to 200 characters long$/],
  ['name with control characters', { ...job, name: 'a\nb' }, 'name', /control characters/],
  ['name with a lone surrogate', { ...job, name: 'a\ud800' }, 'name', /well-formed Unicode/],
  ['padded name', { ...job, name: ' a ' }, 'name', /whitespace/],
  ['missing type', { name: 'a', schedule: '* * * * *' }, 'type', /^is required$/],
  ['bad type', { ...job, type: '../x' }, 'type', /handler name/],
  [
    'neither schedule nor runAt',
    { name: 'a', type: 'noop' },
    'schedule',
    /exactly one of schedule/,
  ],
  [
    'both schedule and runAt',
    { ...job, runAt: '2030-01-01T00:00:00Z' },
    'schedule',
    /cannot be combined with runAt/,
  ],
  ['bad cron', { ...job, schedule: '61 * * * *' }, 'schedule', /minute field: 61 is out of range/],
  ['cron with 4 fields', { ...job, schedule: '* * * *' }, 'schedule', /expected 5 fields/],
  ['schedule not a string', { ...job, schedule: 5 }, 'schedule', /^must be a string$/],
  ['unknown time zone', { ...job, timezone: 'Mars/Olympus' }, 'timezone', /IANA time zone/],
  ['offset as time zone', { ...job, timezone: '+02:00' }, 'timezone', /IANA time zone/],
  ['runAt not a date', { name: 'a', type: 'noop', runAt: 'tomorrow' }, 'runAt', /ISO 8601/],
  [
    'runAt without offset',
    { name: 'a', type: 'noop', runAt: '2030-01-01T09:00:00' },
    'runAt',
    /with an offset/,
  ],
  [
    'runAt 30 February',
    { name: 'a', type: 'noop', runAt: '2030-02-30T09:00:00Z' },
    'runAt',
    /ISO 8601/,
  ],
  ['runAt a number', { name: 'a', type: 'noop', runAt: 1893456000000 }, 'runAt', /ISO 8601/],
  [
    'runAt beyond a year',
    { name: 'a', type: 'noop', runAt: new Date(Date.now() + 400 * 86_400_000).toISOString() },
    'runAt',
    /at most one year from now/,
  ],
  ['retry not an object', { ...job, retry: 3 }, 'retry', /^must be a JSON object$/],
  ['retry an array', { ...job, retry: [3] }, 'retry', /^must be a JSON object$/],
  [
    'retry without maxAttempts',
    { ...job, retry: { backoffMs: 5 } },
    'retry.maxAttempts',
    /^is required$/,
  ],
  [
    'maxAttempts 0',
    { ...job, retry: { maxAttempts: 0 } },
    'retry.maxAttempts',
    /integer between 1 and/,
  ],
  ['maxAttempts 1.5', { ...job, retry: { maxAttempts: 1.5 } }, 'retry.maxAttempts', /integer/],
  ['maxAttempts "3"', { ...job, retry: { maxAttempts: '3' } }, 'retry.maxAttempts', /integer/],
  [
    'negative backoff',
    { ...job, retry: { maxAttempts: 2, backoffMs: -1 } },
    'retry.backoffMs',
    /integer between 0 and/,
  ],
  ['negative timeout', { ...job, timeoutMs: -5 }, 'timeoutMs', /integer between 1 and/],
  ['null timeout', { ...job, timeoutMs: null }, 'timeoutMs', /integer/],
  ['huge timeout', { ...job, timeoutMs: 1e300 }, 'timeoutMs', /integer between 1 and/],
  [
    'unknown concurrency',
    { ...job, concurrency: 'queue' },
    'concurrency',
    /^must be one of allow, forbid, replace$/,
  ],
  [
    'unknown misfire',
    { ...job, misfire: 'later' },
    'misfire',
    /^must be one of skip, fire_once, fire_all$/,
  ],
  ['paused "yes"', { ...job, paused: 'yes' }, 'paused', /^must be true or false$/],
  ['parallelism 0', { ...job, parallelism: 0 }, 'parallelism', /integer between 1 and/],
  ['selector without labels', { ...job, selector: {} }, 'selector.labels', /^is required$/],
  [
    'label with a bad key',
    { ...job, selector: { labels: { 'a b': 'c' } } },
    'selector.labels',
    /invalid label name "a b"/,
  ],
  [
    'label value not a string',
    { ...job, selector: { labels: { a: 1 } } },
    'selector.labels',
    /invalid value for a/,
  ],
  ['unknown field', { ...job, colour: 'blue' }, 'colour', /^is not a known field$/],
  [
    'unknown nested field',
    { ...job, retry: { maxAttempts: 2, jitter: true } },
    'retry.jitter',
    /^is not a known field$/,
  ],
  [
    'unknown selector field',
    { ...job, selector: { labels: {}, any: true } },
    'selector.any',
    /^is not a known field$/,
  ],
];

const TASK_CASES: Case[] = [
  ['missing type', {}, 'type', /^is required$/],
  [
    'empty idempotency key',
    { ...task, idempotencyKey: '' },
    'idempotencyKey',
    /1 to 200 characters/,
  ],
  [
    'long idempotency key',
    { ...task, idempotencyKey: 'k'.repeat(201) },
    'idempotencyKey',
    /1 to 200/,
  ],
  [
    'idempotency key with a NUL (API fuzz seed 1331219958: a 500 from the history lookup)',
    { ...task, idempotencyKey: 'a\u0000b' },
    'idempotencyKey',
    /must not contain control characters/,
  ],
  ['runAt not a date', { ...task, runAt: '2030-13-01T00:00:00Z' }, 'runAt', /ISO 8601/],
  [
    'runAt in 2099 (a task that would wait in ZooKeeper for ever)',
    { ...task, runAt: '2099-01-01T00:00:00Z' },
    'runAt',
    /^must be at most one year from now$/,
  ],
  ['schedule on a task', { ...task, schedule: '* * * * *' }, 'schedule', /not a known field/],
];

describe('job validation', () => {
  it('accepts a minimal cron job and a full one-off job', () => {
    expect(problems(CreateJobDto, job)).toEqual({ kind: 'ok', errors: [] });
    expect(
      problems(CreateJobDto, {
        name: 'once',
        type: 'http',
        payload: { url: 'https://example.org', nested: [1, { a: null }] },
        runAt: SOON.toISOString(),
        retry: { maxAttempts: 3, backoffMs: 0 },
        timeoutMs: 5_000,
        concurrency: 'forbid',
        misfire: 'fire_all',
        selector: { labels: { zone: 'eu-1', 'kubernetes.io/arch': 'amd64' } },
        parallelism: 2,
        paused: true,
      }),
    ).toEqual({ kind: 'ok', errors: [] });
  });

  it('keeps the payload exactly as sent', () => {
    const payload = { a: [1, 2, { b: 'c' }], constructor: 'x' };
    expect(validateInput(CreateJobDto, { ...job, payload }).payload).toBe(payload);
  });

  it.each(JOB_CASES)('refuses %s, naming the field', (_case, body, field, reason) => {
    const { kind, errors } = problems(CreateJobDto, body);
    expect(kind).toBe('invalid');
    expect(errors).toContainEqual({ field, reason: expect.stringMatching(reason) });
  });

  // Found by the API fuzz test (seed 3): `"constructor": null` beside the known fields was a 500.
  it.each([
    ['constructor', null],
    ['constructor', 'x'],
    ['toString', 1],
    ['hasOwnProperty', {}],
  ])('refuses an unknown %s field (%p) as unknown, top level and nested', (key, value) => {
    for (const [dto, body, field] of [
      [SubmitTaskDto, { ...task, [key]: value }, key],
      [CreateJobDto, { ...job, [key]: value }, key],
      [CreateJobDto, { ...job, retry: { maxAttempts: 2, [key]: value } }, `retry.${key}`],
    ] as const) {
      const { kind, errors } = problems(dto, body);
      expect(kind).toBe('invalid');
      expect(errors).toContainEqual({ field, reason: 'is not a known field' });
    }
  });

  it('names every bad field at once', () => {
    const { errors } = problems(CreateJobDto, { name: 5, type: 5, schedule: 'x', extra: 1 });
    expect(errors.map((e) => e.field).sort()).toEqual(['extra', 'name', 'schedule', 'type']);
  });

  it('answers a payload over 256 KiB as too large (413), measured in UTF-8 bytes of its JSON', () => {
    const justFits = { ...job, payload: 'x'.repeat(MAX_PAYLOAD_BYTES - 2) };
    expect(problems(CreateJobDto, justFits).kind).toBe('ok');
    const tooBig = { ...job, payload: 'é'.repeat(MAX_PAYLOAD_BYTES / 2) };
    const { kind, errors } = problems(CreateJobDto, tooBig);
    expect(kind).toBe('too_large');
    expect(errors).toEqual([
      {
        field: 'payload',
        reason: `must be at most ${MAX_PAYLOAD_BYTES} bytes as JSON (got ${MAX_PAYLOAD_BYTES + 2})`,
      },
    ]);
  });

  it('refuses JSON nested too deep and __proto__ keys before walking them', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(problems(CreateJobDto, { ...job, payload: deep })).toEqual({
      kind: 'invalid',
      errors: [{ field: 'payload', reason: `must not nest deeper than ${MAX_JSON_DEPTH} levels` }],
    });
    const polluted = JSON.parse(
      '{"name":"a","type":"noop","schedule":"* * * * *","__proto__":{"x":1}}',
    );
    expect(problems(CreateJobDto, polluted)).toEqual({
      kind: 'invalid',
      errors: [{ field: '__proto__', reason: 'is not an allowed key' }],
    });
  });

  it('validates a patched job as a whole', () => {
    const current: JobRecord = {
      id: '00000000-0000-4000-8000-000000000000',
      name: 'a',
      type: 'noop',
      payload: {},
      schedule: '0 9 * * *',
      timezone: 'UTC',
      retry: { maxAttempts: 1, backoffMs: 1000 },
      timeoutMs: 100,
      concurrency: 'allow',
      misfire: 'fire_once',
      parallelism: 1,
      paused: false,
      createdAt: 0,
      updatedAt: 0,
    };
    const patch = (body: object) => patchedJobSpec(current, validateInput(UpdateJobDto, body));
    expect(patch({ runAt: SOON.toISOString(), timeoutMs: null })).toMatchObject({
      schedule: undefined,
      runAt: SOON.getTime(),
      timeoutMs: undefined,
    });
    expect(patch({ paused: true, timezone: 'Europe/Paris' })).toMatchObject({
      schedule: '0 9 * * *',
      timezone: 'Europe/Paris',
      paused: true,
    });
    expect(() => patch({ schedule: '* * * * *', runAt: '2030-01-01T00:00:00Z' })).toThrow(
      /schedule cannot be combined with runAt/,
    );
    expect(() => patch({ timezone: 'Nowhere/Land' })).toThrow(/timezone must be an IANA/);
    expect(() => patch({ name: null })).toThrow(/name must be a string/);
  });
});

describe('task validation', () => {
  it.each(TASK_CASES)('refuses %s', (_case, body, field, reason) => {
    expect(problems(SubmitTaskDto, body).errors).toContainEqual({
      field,
      reason: expect.stringMatching(reason),
    });
  });

  it('names the item of a batch: tasks[i].field', () => {
    const { errors } = problems(SubmitTasksDto, {
      tasks: [task, { type: 'noop', retry: { maxAttempts: -1 } }, task, { type: 'noop', x: 1 }],
    });
    expect(errors).toEqual([
      { field: 'tasks[1].retry.maxAttempts', reason: 'must be an integer between 1 and 1000' },
      { field: 'tasks[3].x', reason: 'is not a known field' },
    ]);
    expect(problems(SubmitTasksDto, { tasks: [task, 'x', []] }).errors).toEqual([
      { field: 'tasks', reason: 'must hold only JSON objects (item 1 is not)' },
    ]);
  });

  it('refuses an empty batch and one over 1,000 tasks, naming the limit', () => {
    expect(problems(SubmitTasksDto, { tasks: [] }).errors).toEqual([
      { field: 'tasks', reason: 'must hold at least 1 task' },
    ]);
    expect(problems(SubmitTasksDto, { tasks: Array(1_001).fill(task) }).errors).toEqual([
      { field: 'tasks', reason: 'must hold at most 1000 tasks (got 1001): split the batch' },
    ]);
  });

  it('reports at most 100 field errors', () => {
    const { errors } = problems(SubmitTasksDto, { tasks: Array(300).fill({}) });
    expect(errors).toHaveLength(101);
    expect(errors[100]).toEqual({ field: '', reason: 'has 200 more errors' });
  });

  it('validates list queries, turning digits into numbers', () => {
    expect(validateInput(ListJobsQueryDto, { limit: '10' }).limit).toBe(10);
    expect(problems(ListJobsQueryDto, { limit: '0' }).errors).toEqual([
      { field: 'limit', reason: 'must be an integer between 1 and 1000' },
    ]);
    expect(problems(ListJobsQueryDto, { limit: '1e3' }).errors[0].field).toBe('limit');
    expect(problems(ListJobsQueryDto, { cursor: '../x' }).errors).toEqual([
      { field: 'cursor', reason: 'must be a nextCursor from a previous page' },
    ]);
    expect(problems(ListTasksQueryDto, { state: 'done', jobId: 'x' }).errors).toEqual([
      { field: 'jobId', reason: 'must be a job id (a UUID)' },
      {
        field: 'state',
        reason: 'must be one of pending, assigned, running, succeeded, failed, retrying, cancelled',
      },
    ]);
  });

  it('validates and serialises a batch of 1,000 small tasks in well under 50 ms of CPU', () => {
    const body = JSON.stringify({
      tasks: Array.from({ length: 1_000 }, (_, i) => ({
        type: 'noop',
        payload: { i },
        idempotencyKey: `bench-${i}`,
      })),
    });
    const run = (): number => {
      const start = process.cpuUsage();
      const batch = validateInput(SubmitTasksDto, JSON.parse(body));
      const response = JSON.stringify({
        items: batch.tasks.map((t, i) => ({ id: `${t.idempotencyKey}-${i}`, state: 'pending' })),
      });
      const used = process.cpuUsage(start);
      if (response.length === 0) throw new Error('empty response');
      return (used.user + used.system) / 1_000;
    };
    for (let i = 0; i < 5; i++) run(); // warm-up: the JIT, not the code, is slow at first
    const samples = Array.from({ length: 15 }, run).sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)];
    const slow = (): number => {
      const start = process.cpuUsage();
      const errors = validateWithClassValidator(SubmitTasksDto, JSON.parse(body)).errors;
      const used = process.cpuUsage(start);
      if (errors.length > 0) throw new Error('invalid batch');
      return (used.user + used.system) / 1_000;
    };
    for (let i = 0; i < 5; i++) slow();
    const slowSamples = Array.from({ length: 15 }, slow).sort((a, b) => a - b);
    process.stdout.write(
      `batch of 1,000 tasks: validation + serialisation ${median.toFixed(1)} ms CPU ` +
        `(median of 15; min ${samples[0].toFixed(1)}, max ${samples.at(-1)!.toFixed(1)}); ` +
        `class-validator alone would take ${slowSamples[7].toFixed(1)} ms\n`,
    );
    expect(median).toBeLessThan(50);
  });
});

describe('the fast path (batch) and the class-validator path', () => {
  const bodies = (cases: Case[]): Array<Record<string, unknown>> => cases.map(([, body]) => body);
  const corpus: Array<[DtoClass, Record<string, unknown>]> = [
    ...bodies(TASK_CASES).map((body): [DtoClass, Record<string, unknown>] => [SubmitTaskDto, body]),
    ...bodies(JOB_CASES).map((body): [DtoClass, Record<string, unknown>] => [CreateJobDto, body]),
    ...bodies(JOB_CASES).map((body): [DtoClass, Record<string, unknown>] => [UpdateJobDto, body]),
    ...bodies(JOB_CASES).map((body): [DtoClass, Record<string, unknown>] => [SubmitTaskDto, body]),
    [SubmitTasksDto, { tasks: bodies(TASK_CASES) }],
    [SubmitTasksDto, { tasks: bodies(JOB_CASES) }],
    [SubmitTasksDto, { tasks: [task, { type: 'noop', payload: 'é'.repeat(MAX_PAYLOAD_BYTES) }] }],
    [SubmitTasksDto, { tasks: [task], extra: true }],
    [SubmitTasksDto, { tasks: 'x' }],
    [SubmitTasksDto, { tasks: [task, 5] }],
    [SubmitTasksDto, {}],
    [UpdateJobDto, { timeoutMs: null, selector: null, payload: null }],
    [UpdateJobDto, { selector: { labels: { a: 'b' }, x: 1 }, retry: null }],
    [ListJobsQueryDto, { limit: '5', cursor: 'x' }],
    [ListTasksQueryDto, { limit: ['1', '2'], state: 'running', jobId: 5, other: '' }],
  ];

  it.each(corpus.map(([dto, body], i) => [i, dto.name, dto, body] as const))(
    'agree on case %i (%s)',
    (_i, _name, dto, body) => {
      const classValidator = validateWithClassValidator(dto, structuredClone(body));
      const fast = fastValidate(dto, structuredClone(body));
      expect(fast.errors).toEqual(toFieldErrors(classValidator.errors));
      expect(fast.tooLarge).toBe(hasConstraint(classValidator.errors, 'payloadSize'));
    },
  );

  it('agree that good requests are good', () => {
    const good: Array<[DtoClass, Record<string, unknown>]> = [
      [
        SubmitTasksDto,
        { tasks: [task, { ...task, retry: { maxAttempts: 2 }, selector: { labels: {} } }] },
      ],
      [CreateJobDto, job],
      [UpdateJobDto, { paused: true, timeoutMs: null }],
    ];
    for (const [dto, body] of good) {
      expect(fastValidate(dto, structuredClone(body)).errors).toEqual([]);
      expect(validateWithClassValidator(dto, structuredClone(body)).errors).toEqual([]);
    }
  });
});

describe('ISO date-times', () => {
  it.each([
    ['2030-01-01T09:00:00Z', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01T09:00Z', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01t09:00:00.5z', Date.UTC(2030, 0, 1, 9, 0, 0, 500)],
    ['2030-01-01T10:00:00+01:00', Date.UTC(2030, 0, 1, 9)],
    ['2030-01-01T05:30:00-03:30', Date.UTC(2030, 0, 1, 9)],
    ['2028-02-29T00:00:00Z', Date.UTC(2028, 1, 29)],
    ['0050-01-01T00:00:00Z', -60_589_296_000_000],
  ])('reads %s', (text, epoch) => {
    expect(parseIsoDateTime(text)).toBe(epoch);
  });

  it.each([
    '2030-01-01',
    '2030-01-01T09:00:00',
    '2030-01-01 09:00:00Z',
    '2029-02-29T00:00:00Z',
    '2030-04-31T00:00:00Z',
    '2030-01-01T24:00:00Z',
    '2030-01-01T09:60:00Z',
    '2030-01-01T09:00:00+24:00',
    'Tue, 01 Jan 2030 09:00:00 GMT',
  ])('refuses %s', (text) => {
    expect(parseIsoDateTime(text)).toBeUndefined();
  });
});
