import { Injectable, Module, type ModuleMetadata, type Provider } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  HandlerRegistry,
  HandlersModule,
  PayloadError,
  TaskHandlerType,
  UnknownTaskTypeError,
  type TaskHandler,
} from '../../src/handlers';
import { ReportsModule } from '../../src/handlers/examples/reports.module';
import { taskContext } from './task-context';

@TaskHandlerType('dup')
@Injectable()
class FirstDuplicate implements TaskHandler {
  readonly type = 'dup';
  parse(payload: unknown): unknown {
    return payload;
  }
  run(): Promise<unknown> {
    return Promise.resolve(1);
  }
}

@TaskHandlerType('dup')
@Injectable()
class SecondDuplicate extends FirstDuplicate {}

@Module({ providers: [SecondDuplicate] })
class OtherFeatureModule {}

@TaskHandlerType('says.other')
@Injectable()
class MismatchedType extends FirstDuplicate {}

@TaskHandlerType('no.run')
@Injectable()
class NotAHandler {
  readonly type = 'no.run';
}

type Imports = NonNullable<ModuleMetadata['imports']>;

async function boot(imports: Imports, providers: Provider[] = []): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('HandlerRegistry', () => {
  const opened: TestingModule[] = [];

  async function registryOf(
    imports: Imports,
    providers: Provider[] = [],
  ): Promise<HandlerRegistry> {
    const moduleRef = await boot(imports, providers);
    opened.push(moduleRef);
    return moduleRef.get(HandlerRegistry);
  }

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((moduleRef) => moduleRef.close()));
  });

  it('registers the built-ins without shell by default, and explains unknown types', async () => {
    const registry = await registryOf([HandlersModule.forRoot({ allowShell: false })]);
    expect(registry.types()).toEqual(['http', 'logs.compress', 'noop', 'sleep']);
    expect(registry.get('noop')?.type).toBe('noop');
    expect(registry.get('shell')).toBeUndefined();
    expect(() => registry.getOrThrow('shell')).toThrow(
      'no handler for type shell; known types: http, logs.compress, noop, sleep' +
        ' (the shell handler is disabled on this worker: WORKER_ALLOW_SHELL=false)',
    );
    const error = (() => {
      try {
        registry.getOrThrow('report.generat');
      } catch (caught: unknown) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UnknownTaskTypeError);
    expect(error).toMatchObject({
      type: 'report.generat',
      message: 'no handler for type report.generat; known types: http, logs.compress, noop, sleep',
    });
  });

  it('registers shell when allowed, with its options', async () => {
    const registry = await registryOf([
      HandlersModule.forRoot({ allowShell: true, shell: { allowedCommands: ['echo'] } }),
    ]);
    expect(registry.types()).toEqual(['http', 'logs.compress', 'noop', 'shell', 'sleep']);
    const shell = registry.getOrThrow('shell');
    expect(() => shell.parse({ command: 'sh' })).toThrow(PayloadError);
    await expect(
      shell.run(shell.parse({ command: 'echo', args: ['on'] }), taskContext().context),
    ).resolves.toMatchObject({
      stdout: 'on\n',
    });
  });

  it('passes module options to the built-ins', async () => {
    const registry = await registryOf([
      HandlersModule.forRoot({ allowShell: false, http: { allowedHosts: ['example.com'] } }),
    ]);
    expect(() => registry.getOrThrow('http').parse({ url: 'http://127.0.0.1/' })).toThrow(
      /not in the allowed hosts \(example\.com\)/,
    );
  });

  it('discovers the example handler from its own module and runs it idempotently', async () => {
    const outputDirectory = await mkdtemp(path.join(os.tmpdir(), 'reports-'));
    try {
      const registry = await registryOf([
        HandlersModule.forRoot({ allowShell: false }),
        ReportsModule.forRoot({ outputDirectory }),
      ]);
      expect(registry.types()).toContain('report.generate');
      const handler = registry.getOrThrow('report.generate');
      expect(() => handler.parse({ title: 'x', values: [1, 'two'] })).toThrow(
        'payload.values[1] must be a finite number',
      );

      const payload = handler.parse({ title: 'latency', values: [3, 1, 2] });
      const first = await handler.run(
        payload,
        taskContext({ attempt: 1, idempotencyKey: 'k' }).context,
      );
      const second = await handler.run(
        payload,
        taskContext({ attempt: 2, idempotencyKey: 'k' }).context,
      );
      expect(first).toEqual(second);
      expect(first).toMatchObject({ count: 3, min: 1, max: 3, mean: 2 });
      expect(await readdir(outputDirectory)).toHaveLength(1);
      const file = (first as { file: string }).file;
      expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ title: 'latency', mean: 2 });
    } finally {
      await rm(outputDirectory, { recursive: true, force: true });
    }
  });

  it('refuses two handlers for one type at startup, naming both classes', async () => {
    await expect(
      boot([HandlersModule.forRoot({ allowShell: false }), OtherFeatureModule], [FirstDuplicate]),
    ).rejects.toThrow(
      "task type 'dup' has two handlers: FirstDuplicate (in RootTestModule) and SecondDuplicate (in OtherFeatureModule)",
    );
  });

  it('refuses a decorated provider whose type property disagrees or that is not a handler', async () => {
    await expect(
      boot([HandlersModule.forRoot({ allowShell: false })], [MismatchedType]),
    ).rejects.toThrow(
      "MismatchedType (in RootTestModule) is marked @TaskHandlerType('says.other') but its type property is 'dup'",
    );
    await expect(
      boot([HandlersModule.forRoot({ allowShell: false })], [NotAHandler]),
    ).rejects.toThrow(
      /NotAHandler .* is marked @TaskHandlerType\('no\.run'\) but is not a singleton provider with parse\(\) and run\(\)/,
    );
  });

  it('refuses an empty type in the decorator', () => {
    expect(() => TaskHandlerType('')).toThrow(/non-empty type/);
    expect(() => TaskHandlerType(' x')).toThrow(/non-empty type/);
  });
});
