import { toNativeAcl, toWireAcl } from '../../src/client/native';
import {
  OP,
  decodeMultiReply,
  encodeAddWatch,
  encodeMulti,
  setXid,
  type WireOp,
} from '../../src/client/wire';

/** The native client's own jute records: the reference our encoding must match byte for byte. */
interface JuteRecord {
  byteLength(): number;
  serialize(buffer: Buffer, offset: number): number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jute = require('node-zookeeper-client/lib/jute') as {
  OP_CODES: Record<string, number>;
  protocol: {
    RequestHeader: new () => JuteRecord & { xid: number; type: number };
    MultiHeader: new (type: number, done: boolean, err: number) => JuteRecord;
    CreateResponse: new () => JuteRecord & { path: string };
    ErrorResponse: new () => JuteRecord & { err: number };
  };
  data: { Stat: new () => JuteRecord & Record<string, unknown> };
  TransactionRequest: new (ops: unknown[]) => JuteRecord;
  Request: new (header: unknown, payload: unknown) => { toBuffer(): Buffer };
};

function nativeFrame(xid: number, ops: unknown[]): Buffer {
  const header = new jute.protocol.RequestHeader();
  header.xid = xid;
  header.type = jute.OP_CODES.MULTI;
  return new jute.Request(header, new jute.TransactionRequest(ops)).toBuffer();
}

describe('encodeMulti', () => {
  it('writes the bytes the native client writes, for every kind of sub-operation', () => {
    for (const authenticated of [false, true]) {
      const acl = toNativeAcl(authenticated);
      const ops: WireOp[] = [
        { type: 'create', path: '/a/ü-0', data: 'räum', acl: toWireAcl(acl), flags: 2 },
        { type: 'create', path: '/a/empty', data: Buffer.alloc(0), acl: toWireAcl(acl), flags: 0 },
        { type: 'create', path: '/a/none', data: undefined, acl: toWireAcl(acl), flags: 1 },
        { type: 'set', path: '/a/b', data: Buffer.from([0, 1, 255]), version: 0 },
        { type: 'set', path: '/a/c', data: '{"x":1}', version: 7 },
        { type: 'set', path: '/a/d', data: undefined, version: -1 },
        { type: 'delete', path: '/a/e', version: 3 },
        { type: 'check', path: '/a/f', version: -1 },
      ];
      const native = [
        { type: OP.create, path: '/a/ü-0', data: Buffer.from('räum'), acls: acl, mode: 2 },
        { type: OP.create, path: '/a/empty', data: Buffer.alloc(0), acls: acl, mode: 0 },
        { type: OP.create, path: '/a/none', data: undefined, acls: acl, mode: 1 },
        { type: OP.setData, path: '/a/b', data: Buffer.from([0, 1, 255]), version: 0 },
        { type: OP.setData, path: '/a/c', data: Buffer.from('{"x":1}'), version: 7 },
        { type: OP.setData, path: '/a/d', data: undefined, version: -1 },
        { type: OP.delete, path: '/a/e', version: 3 },
        { type: OP.check, path: '/a/f', version: -1 },
      ];
      const frame = encodeMulti(ops);
      setXid(frame, 4242);
      expect(frame.toString('hex')).toBe(nativeFrame(4242, native).toString('hex'));
    }
  });

  it('encodes addWatch as path and mode after the header', () => {
    const frame = encodeAddWatch('/w', 1);
    setXid(frame, 9);
    expect(frame.toString('hex')).toBe(
      [
        '00000012', // length: 18 bytes follow
        '00000009', // xid
        '0000006a', // op code 106
        '00000002',
        Buffer.from('/w').toString('hex'),
        '00000001', // PERSISTENT_RECURSIVE
      ].join(''),
    );
  });
});

describe('decodeMultiReply', () => {
  function reply(records: JuteRecord[]): Buffer {
    const body = records.reduce((size, record) => size + record.byteLength(), 0);
    const frame = Buffer.alloc(20 + body);
    frame.writeInt32BE(frame.length - 4, 0);
    frame.writeInt32BE(77, 4); // xid; zxid and error stay 0
    let offset = 20;
    for (const record of records) offset += record.serialize(frame, offset);
    return frame;
  }

  function stat(): JuteRecord & Record<string, unknown> {
    const record = new jute.data.Stat();
    const long = (value: bigint): Buffer => {
      const buffer = Buffer.alloc(8);
      buffer.writeBigInt64BE(value);
      return buffer;
    };
    Object.assign(record, {
      czxid: long(0x1_0000_0001n),
      mzxid: long(0x1_0000_0002n),
      ctime: long(1_796_000_000_123n),
      mtime: long(1_796_000_000_456n),
      version: 5,
      cversion: 6,
      aversion: 7,
      ephemeralOwner: long(0x0102_0304_0506_0708n),
      dataLength: 300,
      numChildren: 2,
      pzxid: long(0x1_0000_0003n),
    });
    return record;
  }

  it('reads created paths, stats, empty results and errors, in order', () => {
    const created = new jute.protocol.CreateResponse();
    created.path = '/a/ü-0000000007';
    const failed = new jute.protocol.ErrorResponse();
    failed.err = -101;
    const frame = reply([
      new jute.protocol.MultiHeader(OP.create, false, 0),
      created,
      new jute.protocol.MultiHeader(OP.setData, false, 0),
      stat(),
      new jute.protocol.MultiHeader(OP.delete, false, 0),
      new jute.protocol.MultiHeader(OP.check, false, 0),
      new jute.protocol.MultiHeader(OP.error, false, -101),
      failed,
      new jute.protocol.MultiHeader(-1, true, -1),
    ]);
    expect(decodeMultiReply(frame)).toEqual([
      { type: OP.create, path: '/a/ü-0000000007' },
      {
        type: OP.setData,
        stat: {
          czxid: 0x1_0000_0001n,
          mzxid: 0x1_0000_0002n,
          ctime: 1_796_000_000_123,
          mtime: 1_796_000_000_456,
          version: 5,
          cversion: 6,
          aversion: 7,
          ephemeralOwner: '0102030405060708',
          dataLength: 300,
          numChildren: 2,
          pzxid: 0x1_0000_0003n,
        },
      },
      { type: OP.delete },
      { type: OP.check },
      { type: OP.error, err: -101 },
    ]);
  });

  it('says an ephemeral owner of zero is none', () => {
    const record = stat();
    record.ephemeralOwner = Buffer.alloc(8);
    const frame = reply([
      new jute.protocol.MultiHeader(OP.setData, false, 0),
      record,
      new jute.protocol.MultiHeader(-1, true, -1),
    ]);
    expect(decodeMultiReply(frame)[0].stat?.ephemeralOwner).toBeNull();
  });

  it('refuses an op code it does not know', () => {
    const frame = reply([
      new jute.protocol.MultiHeader(99, false, 0),
      new jute.protocol.MultiHeader(-1, true, -1),
    ]);
    expect(() => decodeMultiReply(frame)).toThrow(/unknown op code 99/);
  });
});
