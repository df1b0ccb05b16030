import { Op, type ZkOp, type ZkOpResult } from '@app/zk';
import { WriteBatcher } from '../src/write-batcher';

/** A commit that answers when told to: the transactions it was given, in order. */
function heldCommit(): {
  commit: (ops: ZkOp[]) => Promise<ZkOpResult[]>;
  sent: ZkOp[][];
  answerNext: () => void;
} {
  const sent: ZkOp[][] = [];
  const waiting: Array<() => void> = [];
  return {
    sent,
    commit: (ops) =>
      new Promise((resolve) => {
        sent.push(ops);
        waiting.push(() => resolve(ops.map((op) => ({ type: op.type }) as ZkOpResult)));
      }),
    answerNext: () => waiting.shift()!(),
  };
}

/** A few turns of the event loop: what the batcher schedules has run. */
async function turn(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('WriteBatcher', () => {
  it('sends a lone change at once', async () => {
    const held = heldCommit();
    const writes = new WriteBatcher({ commit: held.commit });
    const done = writes.submit({ ops: [Op.create('/a', '')] });
    await turn();
    expect(held.sent).toHaveLength(1);
    held.answerNext();
    await expect(done).resolves.toHaveLength(1);
  });

  it('groups the changes that arrive while transactions are in flight into the next one', async () => {
    const held = heldCommit();
    const writes = new WriteBatcher({ commit: held.commit, maxInFlight: 1 });
    const first = writes.submit({ ops: [Op.create('/a', '')] });
    await turn();
    const later = [1, 2, 3].map(async (i) => {
      await new Promise((resolve) => setTimeout(resolve, i));
      return writes.submit({ ops: [Op.create(`/b${i}`, '')] });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(held.sent).toHaveLength(1); // the three wait for the first transaction

    held.answerNext();
    await first;
    await turn();
    expect(held.sent).toHaveLength(2);
    expect(held.sent[1].map((op) => op.path)).toEqual(['/b1', '/b2', '/b3']);
    held.answerNext();
    const results = await Promise.all(await Promise.all(later));
    expect(results.map((r) => r.length)).toEqual([1, 1, 1]);
  });

  it('keeps up to maxInFlight transactions going at once', async () => {
    const held = heldCommit();
    const writes = new WriteBatcher({ commit: held.commit, maxInFlight: 2 });
    const a = writes.submit({ ops: [Op.create('/a', '')] });
    await turn();
    const b = writes.submit({ ops: [Op.create('/b', '')] });
    await turn();
    const c = writes.submit({ ops: [Op.create('/c', '')] });
    await turn();
    expect(held.sent.map((ops) => ops[0].path)).toEqual(['/a', '/b']);
    held.answerNext();
    await a;
    await turn();
    expect(held.sent.map((ops) => ops[0].path)).toEqual(['/a', '/b', '/c']);
    held.answerNext();
    held.answerNext();
    await Promise.all([b, c]);
  });
});
