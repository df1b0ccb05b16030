import { hasParentSegment, isInside } from '../../src/handlers/support/contained-path';
import { OutputTail } from '../../src/handlers/support/output-tail';
import { isLinkLocalOrMetadata } from '../../src/handlers/support/blocked-addresses';

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

  it('recognises link-local and metadata addresses in every spelling', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      'fe80::1',
      '[fe80::abcd]',
      '::ffff:169.254.169.254',
      'fd00:ec2::254',
    ]) {
      expect(isLinkLocalOrMetadata(address)).toBe(true);
    }
    for (const address of [
      '127.0.0.1',
      '10.0.0.1',
      '::1',
      'fec0::1',
      'example.com',
      '169.255.0.1',
    ]) {
      expect(isLinkLocalOrMetadata(address)).toBe(false);
    }
  });
});
