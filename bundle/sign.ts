/**
 * Ed25519 signatures (node's crypto) over the manifest's bytes. The manifest holds the SHA-256 of every other
 * part, so one signature covers the whole bundle. The signature part names the key's id (a hash of the public
 * key) so a refusal can say "signed by another key" rather than just "bad".
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { UserError } from '../lib/errors.ts';
import { BundleError } from './errors.ts';
import { SIGNATURE_PART } from './manifest.ts';

interface SignatureFile { algorithm: 'ed25519'; keyId: string; signature: string }

export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

async function readKey(file: string, kind: 'private' | 'public'): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(file);
  } catch (e) {
    throw new UserError('BUNDLE_KEY_UNREADABLE', `cannot read the ${kind} key ${file}: ${(e as Error).message}`, { hint: 'berth bundle keygen --out FILE makes a key pair.' });
  }
  let key: KeyObject;
  try {
    key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (e) {
    throw new UserError('BUNDLE_KEY_INVALID', `${file} is not a PEM ${kind} key: ${(e as Error).message}`, { hint: 'berth bundle keygen --out FILE makes an Ed25519 key pair (FILE and FILE.pub).' });
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError('BUNDLE_KEY_INVALID', `${file} is an ${key.asymmetricKeyType} key; bundles are signed with Ed25519`, { hint: 'berth bundle keygen --out FILE makes one.' });
  return key;
}

export const readPrivateKey = (file: string) => readKey(file, 'private');
export const readPublicKey = (file: string) => readKey(file, 'public');

export function signManifest(manifest: Buffer, key: KeyObject): Buffer {
  const body: SignatureFile = { algorithm: 'ed25519', keyId: keyId(key), signature: sign(null, manifest, key).toString('base64') };
  return Buffer.from(`${JSON.stringify(body)}\n`);
}

/** Throws unless `signature` is a signature of `manifest` by `key`; resolves to the signer's key id. */
export function checkSignature(manifest: Buffer, signature: Buffer | undefined, key: KeyObject): string {
  const want = keyId(key);
  if (!signature) throw new BundleError('BUNDLE_UNSIGNED', `the bundle is not signed, and a key (${want}) was given to check it`, { part: SIGNATURE_PART });
  let body: Partial<SignatureFile>;
  try {
    body = JSON.parse(signature.toString('utf8')) as Partial<SignatureFile>;
  } catch {
    throw new BundleError('BUNDLE_SIGNATURE_INVALID', `the signature (${SIGNATURE_PART}) is not readable`, { part: SIGNATURE_PART });
  }
  const sig = typeof body.signature === 'string' ? Buffer.from(body.signature, 'base64') : Buffer.alloc(0);
  if (body.algorithm === 'ed25519' && sig.length === 64 && verify(null, manifest, key, sig)) return want;
  const other = typeof body.keyId === 'string' && body.keyId !== want ? `it was signed by key ${body.keyId.slice(0, 16)}, not by the given key ${want}` : `the signature does not match the manifest for key ${want}: the manifest or the signature was altered`;
  throw new BundleError('BUNDLE_SIGNATURE_INVALID', `the bundle's signature is refused: ${other}`, {
    part: SIGNATURE_PART, hint: 'Check that --key is the vendor\'s public key; if it is, the bundle was altered: get it again from the vendor.',
  });
}

/** A new Ed25519 key pair: FILE (private, mode 0600) and FILE.pub. */
export async function keygen(file: string): Promise<{ private: string; public: string; keyId: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await writeFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  await writeFile(`${file}.pub`, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  return { private: file, public: `${file}.pub`, keyId: keyId(publicKey) };
}
