import { sequenceOf, sortBySequence } from '../../src/client/paths';

describe('sequenceOf', () => {
  it("reads ZooKeeper's ten-digit suffix", () => {
    expect(sequenceOf('c-0000000000')).toBe(0);
    expect(sequenceOf('c-0000004711')).toBe(4711);
    expect(sequenceOf('lock-2147483647')).toBe(2147483647);
    expect(sequenceOf('0000000042')).toBe(42);
  });

  it.each(['c-', 'c-12345', 'c-00000000x1', 'c-000000000 ', ''])('refuses %j', (name) => {
    expect(() => sequenceOf(name)).toThrow(/not a sequential node name/);
  });

  it('orders by sequence, not by prefix', () => {
    expect(sortBySequence(['b-0000000002', 'a-0000000010', 'c-0000000001'])).toEqual([
      'c-0000000001',
      'b-0000000002',
      'a-0000000010',
    ]);
  });
});
