import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Seals webhook secrets at rest: AES-256-GCM with a key from configuration
 * (WEBHOOK_SECRET_KEY), a fresh 12-byte nonce per seal, the subscription id
 * as associated data (a sealed secret copied to another row does not open).
 * Stored as `v1:<nonce>:<tag>:<ciphertext>` (base64url). A database dump
 * alone does not reveal the secrets; the key does.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the webhook secret key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  seal(secret: string, id: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(id));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [VERSION, nonce, cipher.getAuthTag(), sealed]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join(':');
  }

  /** Throws when the value was sealed with another key, for another id, or altered. */
  open(sealed: string, id: string): string {
    const [version, nonce, tag, data] = sealed.split(':');
    if (version !== VERSION || data === undefined) throw new Error('not a sealed webhook secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
    decipher.setAAD(Buffer.from(id));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(data, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}

/** A new subscription secret when the caller gives none: 32 random bytes, `whsec_` + base64url. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}
