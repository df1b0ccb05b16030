import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';
import {
  ConfigValidationError,
  type ConfigProblem,
  type Environment,
} from '../config/load-app-config';

/**
 * Optional TLS for a service's HTTP and gRPC listeners: `TLS_CERT_FILE` (PEM
 * certificate chain) and `TLS_KEY_FILE` (PEM private key), both or neither.
 * Unset: plain HTTP and gRPC, as behind a TLS-terminating proxy or on a
 * trusted network. Read at start; a new certificate needs a restart.
 */
export interface TlsSettings {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export function loadTlsSettings(env: Environment): TlsSettings | undefined {
  const certFile = env.TLS_CERT_FILE?.trim();
  const keyFile = env.TLS_KEY_FILE?.trim();
  if (!certFile && !keyFile) return undefined;
  const problems: ConfigProblem[] = [];
  const read = (variable: string, file: string | undefined): Buffer => {
    if (!file) {
      problems.push({
        variable,
        message: `${variable} must be set too: TLS needs TLS_CERT_FILE and TLS_KEY_FILE`,
      });
      return Buffer.alloc(0);
    }
    try {
      const content = readFileSync(file);
      if (!content.toString('utf8').includes('-----BEGIN ')) {
        problems.push({ variable, message: `${variable} is not a PEM file (${file})` });
      }
      return content;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      problems.push({ variable, message: `${variable} cannot be read (${code}: ${file})` });
      return Buffer.alloc(0);
    }
  };
  const cert = read('TLS_CERT_FILE', certFile);
  const key = read('TLS_KEY_FILE', keyFile);
  if (problems.length > 0) throw new ConfigValidationError(problems);
  return { cert, key };
}

/** gRPC server credentials: TLS with `tls`, else insecure (plaintext). */
export function grpcServerCredentials(tls: TlsSettings | undefined): ServerCredentials {
  return tls
    ? ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false)
    : ServerCredentials.createInsecure();
}
