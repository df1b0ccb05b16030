import type { INestApplication } from '@nestjs/common';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Exit code 0 after a clean shutdown. Nest's shutdown hooks end the process by
 * re-sending the signal to itself once the application is closed, which makes
 * a drained, orderly stop look like a kill (143/130) to a supervisor. This
 * listener joins the same shutdown (Nest runs one close for every caller) and
 * exits 0 as soon as it completes; a failed close still exits 1 (Nest's own
 * handler does that).
 */
export function exitZeroAfterShutdown(app: INestApplication): void {
  let closing = false;
  const onSignal = (): void => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
}
