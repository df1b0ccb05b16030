/**
 * Node.js flags every service process starts with: the image's command
 * (Dockerfile, which spells them out), `npm start` and the test harness. They
 * must be on the command line: V8 sizes its heap before any code runs.
 *
 * `--max-semi-space-size=32` (MB; V8's default is 16): a batch of records a
 * worker or the leader reads lives a few tens of milliseconds, longer than a
 * 16 MB young generation lasts at thousands of tasks a second, so it was copied
 * out and collected again with the old objects. With 32 MB, a worker's garbage
 * collection fell from ~28 % to ~13 % of its CPU in `bench:e2e`, and each
 * worker used ~25 % less CPU; it costs at most 3 × 16 MB more young-generation
 * memory, taken only under load.
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
