import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/** PEM text of a certificate chain and its key, as `https.createServer` takes them. */
export interface TlsFiles {
  /** The server certificate followed by the CA that signed it (PEM). */
  cert: string;
  /** The server's private key (PEM). */
  key: string;
  /** The CA certificate a client trusts (`NODE_EXTRA_CA_CERTS`, a `ca` option) (PEM). */
  ca: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** An RSA 2048 key pair made by Node's native crypto (fast), in forge's form. */
function keyPair(): {
  publicKey: forge.pki.rsa.PublicKey;
  privateKey: forge.pki.rsa.PrivateKey;
  pem: string;
} {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey,
    pem: privateKey,
  };
}

function serial(): string {
  // Positive serial: top bit clear.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
}

/**
 * A throwaway CA and a server certificate it signs, made at start for `sandbox --tls`: RSA 2048,
 * SHA-256, valid for `days`; the server certificate names `hosts` (DNS names and IP addresses) in
 * its subjectAltName. Nothing is written to disk here; the CLI writes the CA where it says.
 */
export function createSelfSignedTls(
  hosts: readonly string[] = ['localhost', '127.0.0.1', '::1'],
  days = 30,
): TlsFiles {
  const caKeys = keyPair();
  const ca = forge.pki.createCertificate();
  ca.publicKey = caKeys.publicKey;
  ca.serialNumber = serial();
  validity(ca, days);
  const caSubject = [
    { name: 'commonName', value: 'dingtalk-skills sandbox CA (local only)' },
    { name: 'organizationName', value: 'dingtalk-skills sandbox' },
  ];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const serverKeys = keyPair();
  const server = forge.pki.createCertificate();
  server.publicKey = serverKeys.publicKey;
  server.serialNumber = serial();
  validity(server, days);
  server.setSubject([{ name: 'commonName', value: 'dingtalk-skills sandbox' }]);
  server.setIssuer(caSubject);
  server.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })),
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  const caPem = forge.pki.certificateToPem(ca);
  return { cert: `${forge.pki.certificateToPem(server)}${caPem}`, key: serverKeys.pem, ca: caPem };
}
