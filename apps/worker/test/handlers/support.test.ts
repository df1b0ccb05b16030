import { hasParentSegment, isInside } from '../../src/handlers/support/contained-path';
import { OutputTail } from '../../src/handlers/support/output-tail';

describe('handler support', () => {
  it('isInside compares whole path segments', () => {
    expect(isInside('/data/logs', '/data/logs')).toBe(true);
    expect(isInside('/data/logs', '/data/logs/a/b')).toBe(true);
    expect(isInside('/data/logs', '/data/logs/..hidden')).toBe(true);
    expect(isInside('/data/logs', '/data/logs2')).toBe(false);
    expect(isInside('/data/logs', '/data')).toBe(false);
    expect(isInside('/', '/anything')).toBe(true);
  });

  it('hasParentSegment finds only real .. segments', () => {
    expect(hasParentSegment('/var/log/../etc')).toBe(true);
    expect(hasParentSegment('..')).toBe(true);
    expect(hasParentSegment('/var/log/..old')).toBe(false);
  });

  it('OutputTail keeps the last bytes across chunks', () => {
    const tail = new OutputTail(5);
    tail.push(Buffer.from('abc'));
    expect(tail.truncated).toBe(false);
    tail.push(Buffer.from('defg'));
    tail.push(Buffer.from('h'));
    expect(tail.text()).toBe('defgh');
    expect(tail.truncated).toBe(true);
  });
});
