import { Module } from '@nestjs/common';
import { HttpShutdown } from './http-shutdown';
import { ShutdownWatch } from './shutdown-watch';

/**
 * A bounded, legible shutdown for every service: the HTTP server's close
 * waits a few seconds for requests in flight, not forever (HttpShutdown),
 * and a slow shutdown says what it waits for (ShutdownWatch).
 */
@Module({ providers: [HttpShutdown, ShutdownWatch] })
export class ShutdownModule {}
