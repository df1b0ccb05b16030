import {
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ZkClient, type ZkClientOptions } from '../client/zk-client';
import { structuredLogger } from './structured-logger';

export const ZK_CLIENT_OPTIONS = Symbol('ZK_CLIENT_OPTIONS');

export interface ZkModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: InjectionToken[];
  useFactory(...args: never[]): ZkClientOptions | Promise<ZkClientOptions>;
}

/** Closes the session last, after every recipe closed in `beforeApplicationShutdown`. */
@Injectable()
export class ZkClientCloser implements OnApplicationShutdown {
  constructor(private readonly client: ZkClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/**
 * The process's one ZooKeeper session as an injectable `ZkClient`, connected
 * before anything that depends on it is created. Recipes built on it should
 * close in `beforeApplicationShutdown`, so the session outlives them.
 */
@Module({})
export class ZkModule {
  static forRootAsync(options: ZkModuleAsyncOptions): DynamicModule {
    return {
      module: ZkModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: ZK_CLIENT_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
        {
          provide: ZkClient,
          inject: [ZK_CLIENT_OPTIONS],
          useFactory: async (clientOptions: ZkClientOptions): Promise<ZkClient> => {
            const client = new ZkClient({
              logger: structuredLogger('ZooKeeper'),
              ...clientOptions,
            });
            await client.start();
            return client;
          },
        },
        ZkClientCloser,
      ],
      exports: [ZkClient],
    };
  }
}
