/**
 * How DistributedQueue items are stored: the node name says the item's kind
 * (b = Buffer, s = string, j = JSON) and its delivery attempt,
 * `item-<kind>-<attempt>-<seq>`; the data is the item's bytes.
 */

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What can be queued: bytes, text, or any JSON value (a string is stored as text). */
export type QueueItem = Buffer | JsonValue;

export type ItemKind = 'b' | 's' | 'j';

export interface ParsedName {
  kind: ItemKind;
  attempt: number;
}

/** Item node names: anything else under `items/` is not the queue's. */
export const ITEM_NAME = /^item-([bsj])-(\d+)-\d{10}$/;

/** The name prefix (sequence to come) and data of a new item, first delivery. */
export function encodeItem(item: QueueItem): [string, Buffer] {
  if (Buffer.isBuffer(item)) return ['item-b-1-', item];
  if (typeof item === 'string') return ['item-s-1-', Buffer.from(item, 'utf8')];
  const json = JSON.stringify(item);
  if (json === undefined) throw new Error('DistributedQueue: item is not JSON-serialisable');
  return ['item-j-1-', Buffer.from(json, 'utf8')];
}

export function parseItemName(name: string): ParsedName {
  const match = ITEM_NAME.exec(name);
  if (!match) throw new Error(`not a queue item name: ${name}`);
  return { kind: match[1] as ItemKind, attempt: Number(match[2]) };
}

export function decodeItem(kind: ItemKind, data: Buffer): QueueItem {
  switch (kind) {
    case 'b':
      return data;
    case 's':
      return data.toString('utf8');
    case 'j':
      return JSON.parse(data.toString('utf8')) as JsonValue;
  }
}
