/**
 * Runs a benchmark's `main` when its file is the entry point: exit 0 when it
 * resolves, 1 (with the error printed) when it throws.
 */
export function runMain(entry: NodeModule, main: () => Promise<void>): void {
  if (require.main !== entry) return;
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
