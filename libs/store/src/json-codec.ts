/** JSON in znodes: one place decides the encoding. */

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function decodeJson<T>(data: Buffer): T {
  return JSON.parse(data.toString('utf8')) as T;
}
