import { Op } from '@app/zk';
import { timing } from '@app/zk/testing';
import { ZkLayout, type QueueNote } from '@app/contracts';
import { AuditWriter, WriteBatcher } from '@app/store';
import { LeaderContext } from '../../src/leadership/leader-context';
import { QueueIntake } from '../../src/dispatch/queue-intake';
import { loadSchedulerTuning } from '../../src/scheduler-tuning';
import { LeaderFixture } from '../support/leader-fixture';

const fixture = new LeaderFixture().install();
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

async function noteOf(zk: Awaited<ReturnType<typeof fixture.client>>, id: string): Promise<void> {
  const note: QueueNote = { ids: [id] };
  await zk.multi([
    Op.create(ZkLayout.queueEntryPrefix, JSON.stringify(note), 'persistent_sequential'),
  ]);
}

test('every entry is looked at once and deleted, and the intake keeps no name of an entry it took', async () => {
  const zk = await fixture.client();
  await zk.mkdirp(ZkLayout.queue);
  for (let i = 0; i < 5; i++) await noteOf(zk, `before-${i}`); // found by the first listing
  const ctx = new LeaderContext(
    zk,
    new WriteBatcher({ commit: (ops) => zk.multi(ops) }),
    new AuditWriter('test'),
    { epoch: '1', candidatePath: '/election/x', sessionId: '0' },
    loadSchedulerTuning({}),
    silent,
  );
  const seen: string[] = [];
  const intake = new QueueIntake(ctx, async (note) => void seen.push(...note.ids));
  try {
    await intake.start();
    for (let i = 0; i < 20; i++) await noteOf(zk, `after-${i}`); // reported by the watch
    await timing.waitFor(async () => (await zk.children(ZkLayout.queue)).children.length === 0, {
      message: 'entries left in /queue',
    });
    expect([...seen].sort()).toEqual(
      [
        ...Array.from({ length: 5 }, (_, i) => `before-${i}`),
        ...Array.from({ length: 20 }, (_, i) => `after-${i}`),
      ].sort(),
    );
    // A name kept per entry would grow for the whole term (a leak under steady load).
    expect((intake as unknown as { taken: Set<string> }).taken.size).toBe(0);
  } finally {
    await intake.close();
  }
});
