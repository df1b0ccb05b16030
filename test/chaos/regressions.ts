/**
 * Seeds of chaos runs that found a bug, kept as regression cases:
 * `npm run test:chaos -- --regressions` runs each of them (same fault window).
 * A seed fixes the run's choices, not its timing, so a replay is likely, not
 * certain, to take the same path; each one reproduced its bug before the fix.
 * New fault kinds change what a seed draws: since the cut-off faults were
 * added, the seeds below no longer replay the runs that found their bugs
 * (they stay as runs that once found one).
 */
export interface RegressionSeed {
  seed: number;
  minutes: number;
  found: string;
}

export const REGRESSION_SEEDS: readonly RegressionSeed[] = [
  {
    seed: 1,
    minutes: 1.6,
    found:
      'tasks stuck in running/assigned forever: a worker gave them up when its session ended ' +
      '(its reports failed while the quorum was lost), and the leader elected after the quorum ' +
      'came back saw the worker registered again, live and holding them; fixed by the worker ' +
      'handing back an attempt given up with a lost session (task-executor.ts)',
  },
  {
    seed: 2067808632,
    minutes: 5,
    found:
      'a gang task stuck in running: the quorum was lost as both members finished, one ' +
      "member's success landed, the other's report did not and its session ended; the hand-back " +
      'of seed 1 skipped gangs; fixed by a gang member handing back the whole attempt ' +
      '(task-executor.ts; worker-gang.int.test.ts)',
  },
  {
    seed: 294775684,
    minutes: 1.8,
    found:
      'a /jobstate node left after its job was deleted: a fire in flight when the job was ' +
      'deleted found its state gone, read it again and created it anew; fixed by the fire ' +
      'checking that the job still exists in the same transaction (job-scheduler.ts). Later, in CI, ' +
      '"scheduler-2 did not exit on SIGTERM: timed out after 45000 ms" (fault 10, a scheduler ' +
      'relaunched after a leader kill -9): the end of a leadership and close() waited behind a term ' +
      'start that waited for ZooKeeper; fixed by ending a term without waiting for its start ' +
      '(leadership-terms.ts; leadership-terms.int.test.ts)',
  },
  {
    seed: 158223311,
    minutes: 1.8,
    found:
      'a scheduler did not exit on SIGTERM while the quorum was lost: its new term waited for ' +
      'the job view to catch up with the change log, and the term change that would end it ' +
      'waited behind; fixed by arming the jobs in the background once the view is current ' +
      '(job-scheduler.ts)',
  },
  {
    seed: 888066772,
    minutes: 20,
    found:
      "'registry exited with code null (signal SIGKILL) on SIGTERM' three times, for no SIGTERM: " +
      'with every registry down, the fault fell back to a slot that was not live, and signalling ' +
      'a process that was gone returned its old `kill -9` exit; fixed in the harness: a fault ' +
      'waits for a live target and AppProcess.signal throws for a process already gone ' +
      '(faults.ts, app-process.ts)',
  },
  {
    seed: 99153971,
    minutes: 5,
    found:
      "'/assign: 3 znodes at the start, 4 at the end' (invariant 6; its replay passed, so the " +
      'cause is inferred, and the run now lists what such a branch holds): a worker that read an ' +
      'assignment note and whose delete of it failed (sent into a cut or a lost session) never ' +
      'tried again while it lived, the note listed but taken as read; fixed by reading and ' +
      'deleting it again on a later listing (task-executor.ts; worker-engine.int.test.ts)',
  },
  {
    seed: 1337125550,
    minutes: 30,
    found:
      "'scheduler-2 did not exit within 45 s of SIGTERM' (a leader under the workload): its " +
      "shutdown steps were done and Node's HTTP server close waited (seen with the shutdown " +
      'watch and a diagnostic report: no hook running, the listening socket closed, a client ' +
      'connection open): close() closes only the keep-alive connections idle at that moment; ' +
      "one busy then served its client's next requests, and a client sending more often than " +
      'the keep-alive timeout held it open for ever; fixed by answering with Connection: close ' +
      'from the first shutdown step and bounding the wait for requests in flight (5 s, then ' +
      'their connections are closed) (http-shutdown.ts; test/e2e/shutdown.int.test.ts)',
  },
];
