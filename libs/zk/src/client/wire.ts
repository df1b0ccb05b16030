import type { ZkStat } from './types';

/**
 * ZooKeeper's wire format (jute) for the requests ZkClient encodes itself: a
 * `multi` and its reply, and `addWatch`. The native client's generic records
 * copy every payload twice, allocate a Buffer per 64-bit field and size each
 * nested record once per level above it: the batched writes of the leader and
 * the workers spent about a third of their ZooKeeper time there.
 *
 * A request frame: int32 length, int32 xid, int32 op code, body. A reply frame:
 * int32 length, int32 xid, int64 zxid, int32 error, body.
 */

/** Op codes (ZooDefs.OpCode). */
export const OP = {
  create: 1,
  delete: 2,
  setData: 5,
  check: 13,
  multi: 14,
  addWatch: 106,
  /** A multi's failed sub-operation in its reply. */
  error: -1,
} as const;

export interface WireAcl {
  perms: number;
  scheme: string;
  id: string;
}

/** A `multi` sub-operation with its absolute path (the caller's root applied). */
export type WireOp =
  | {
      type: 'create';
      path: string;
      data: Buffer | string | undefined;
      acl: readonly WireAcl[];
      flags: number;
    }
  | { type: 'set'; path: string; data: Buffer | string | undefined; version: number }
  | { type: 'delete' | 'check'; path: string; version: number };

/** One entry of a `multi` reply: its op code (OP.error when it failed), created path, stat. */
export interface WireResult {
  type: number;
  err?: number;
  path?: string;
  stat?: ZkStat;
}

const HEADER_BYTES = 12; // length, xid, op code
const REPLY_HEADER_BYTES = 20; // length, xid, zxid, error
const MULTI_HEADER_BYTES = 9; // op code, done (a byte), error
const STAT_BYTES = 68;

/** Writes the xid the native client assigned into an encoded request frame. */
export function setXid(frame: Buffer, xid: number): void {
  frame.writeInt32BE(xid, 4);
}

export function encodeMulti(ops: readonly WireOp[]): Buffer {
  let size = HEADER_BYTES + MULTI_HEADER_BYTES;
  for (const op of ops) size += MULTI_HEADER_BYTES + opBytes(op);
  const writer = new Writer(size, OP.multi);
  for (const op of ops) {
    writer.int(opCode(op));
    writer.byte(0);
    writer.int(-1);
    writer.string(op.path);
    switch (op.type) {
      case 'create':
        writer.data(op.data);
        writer.int(op.acl.length);
        for (const entry of op.acl) {
          writer.int(entry.perms);
          writer.string(entry.scheme);
          writer.string(entry.id);
        }
        writer.int(op.flags);
        break;
      case 'set':
        writer.data(op.data);
        writer.int(op.version);
        break;
      default:
        writer.int(op.version);
    }
  }
  writer.int(-1);
  writer.byte(1);
  writer.int(-1);
  return writer.done();
}

/** AddWatchRequest: a path and a mode (AddWatchMode: 0 persistent, 1 persistent recursive). */
export function encodeAddWatch(path: string, mode: number): Buffer {
  const writer = new Writer(HEADER_BYTES + 4 + Buffer.byteLength(path) + 4, OP.addWatch);
  writer.string(path);
  writer.int(mode);
  return writer.done();
}

/** The sub-results of a successful `multi` reply frame (error 0 in its header). */
export function decodeMultiReply(frame: Buffer): WireResult[] {
  const results: WireResult[] = [];
  let offset = REPLY_HEADER_BYTES;
  for (;;) {
    const type = frame.readInt32BE(offset);
    const done = frame[offset + 4] !== 0;
    offset += MULTI_HEADER_BYTES;
    if (done) return results;
    switch (type) {
      case OP.create: {
        const length = frame.readInt32BE(offset);
        offset += 4;
        results.push({ type, path: frame.toString('utf8', offset, offset + length) });
        offset += length;
        break;
      }
      case OP.setData:
        results.push({ type, stat: decodeStat(frame, offset) });
        offset += STAT_BYTES;
        break;
      case OP.delete:
      case OP.check:
        results.push({ type });
        break;
      case OP.error:
        results.push({ type, err: frame.readInt32BE(offset) });
        offset += 4;
        break;
      default:
        throw new Error(`unknown op code ${type} in a multi reply`);
    }
  }
}

function decodeStat(frame: Buffer, offset: number): ZkStat {
  const owner = frame.readBigInt64BE(offset + 44);
  return {
    czxid: frame.readBigInt64BE(offset),
    mzxid: frame.readBigInt64BE(offset + 8),
    ctime: Number(frame.readBigInt64BE(offset + 16)),
    mtime: Number(frame.readBigInt64BE(offset + 24)),
    version: frame.readInt32BE(offset + 32),
    cversion: frame.readInt32BE(offset + 36),
    aversion: frame.readInt32BE(offset + 40),
    ephemeralOwner: owner === 0n ? null : frame.toString('hex', offset + 44, offset + 52),
    dataLength: frame.readInt32BE(offset + 52),
    numChildren: frame.readInt32BE(offset + 56),
    pzxid: frame.readBigInt64BE(offset + 60),
  };
}

function opCode(op: WireOp): number {
  switch (op.type) {
    case 'create':
      return OP.create;
    case 'set':
      return OP.setData;
    case 'delete':
      return OP.delete;
    case 'check':
      return OP.check;
  }
}

function opBytes(op: WireOp): number {
  const path = 4 + Buffer.byteLength(op.path);
  switch (op.type) {
    case 'create': {
      let acl = 4;
      for (const entry of op.acl) {
        acl += 4 + 4 + Buffer.byteLength(entry.scheme) + 4 + Buffer.byteLength(entry.id);
      }
      return path + dataBytes(op.data) + acl + 4;
    }
    case 'set':
      return path + dataBytes(op.data) + 4;
    default:
      return path + 4;
  }
}

function dataBytes(data: Buffer | string | undefined): number {
  if (data === undefined) return 4;
  return 4 + (typeof data === 'string' ? Buffer.byteLength(data) : data.length);
}

/** Fills one frame of a known size; the length and op code first, the xid left to `setXid`. */
class Writer {
  private readonly frame: Buffer;
  private offset = HEADER_BYTES;

  constructor(size: number, opCode: number) {
    this.frame = Buffer.allocUnsafe(size);
    this.frame.writeInt32BE(size - 4, 0);
    this.frame.writeInt32BE(0, 4);
    this.frame.writeInt32BE(opCode, 8);
  }

  int(value: number): void {
    this.offset = this.frame.writeInt32BE(value, this.offset);
  }

  byte(value: number): void {
    this.frame[this.offset++] = value;
  }

  string(value: string): void {
    const length = this.frame.write(value, this.offset + 4, 'utf8');
    this.frame.writeInt32BE(length, this.offset);
    this.offset += 4 + length;
  }

  /** A buffer field: length then bytes; -1 for none. */
  data(value: Buffer | string | undefined): void {
    if (value === undefined) this.int(-1);
    else if (typeof value === 'string') this.string(value);
    else {
      this.int(value.length);
      this.offset += value.copy(this.frame, this.offset);
    }
  }

  done(): Buffer {
    if (this.offset !== this.frame.length) {
      throw new Error(`encoded ${this.offset} bytes into a frame of ${this.frame.length}`);
    }
    return this.frame;
  }
}
