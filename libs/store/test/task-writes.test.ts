import { ZkLayout } from '@app/contracts';
import { assignmentWrites, newTaskRecord, toAssigned } from '@app/store';

describe('assignmentWrites', () => {
  const record = toAssigned(
    newTaskRecord({ type: 'x', payload: { text: 'ü "quoted"', n: [1, 2] }, jobId: 'j' }, 5),
    ['w1', 'w2'],
    9,
  );

  it('an assignment node per worker and a note each carrying the record as written', () => {
    const json = JSON.stringify(record);
    const { ops, notes } = assignmentWrites(record, json, 3, ['w1', 'w2']);
    const node = { attempt: 1, taskVersion: 3 };
    expect(ops).toEqual([
      expect.objectContaining({ type: 'create', path: ZkLayout.assignment('w1', record.id) }),
      expect.objectContaining({ type: 'create', path: ZkLayout.assignment('w2', record.id) }),
    ]);
    expect(ops.map((op) => (op.type === 'create' ? op.data : undefined))).toEqual([
      JSON.stringify(node),
      JSON.stringify(node),
    ]);
    // Built from the record's JSON, not encoded again: the same text as encoding it whole.
    expect(notes).toEqual([
      { workerId: 'w1', json: JSON.stringify({ ...node, record }) },
      { workerId: 'w2', json: JSON.stringify({ ...node, record }) },
    ]);
  });

  it('nothing for no workers', () => {
    expect(assignmentWrites(record, JSON.stringify(record), 0, [])).toEqual({ ops: [], notes: [] });
  });
});
