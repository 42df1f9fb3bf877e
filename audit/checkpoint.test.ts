import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalKeySigner, trustedKeyFromPublicKey } from '../signing/index.js';
import { noteKeyId, openNote, signCheckpoint, signNote, verifyCheckpoint } from './checkpoint.js';

// Known-answer vector of Go's golang.org/x/mod/sumdb/note (the C2SP signed-note reference):
// skey PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz
const seed = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const privateKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
  format: 'der',
  type: 'pkcs8',
});
const signer = new LocalKeySigner(privateKey);
const trusted = { keys: [trustedKeyFromPublicKey(createPublicKey(privateKey), 'peter', ['audit-checkpoint'])] };
const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";

describe('C2SP signed notes and checkpoints', () => {
  it('reproduces the Go sumdb/note known-answer vector (key id and signature)', () => {
    expect(
      Buffer.from('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'base64')
        .subarray(1)
        .equals(Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url')),
    ).toBe(true);
    expect(noteKeyId('PeterNeumann', signer.publicKey).toString('hex')).toBe('c74f20a3');
    const note = signNote(text, 'PeterNeumann', signer);
    expect(note).toBe(
      `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`,
    );
    expect(openNote(note, trusted, 'note').text).toBe(text);
    expect(() => openNote(note.replace('cryptography', 'cryptographY'), trusted, 'note')).toThrow(/does not verify/);
  });

  it('signs and verifies checkpoints; rejects altered size, root, untrusted and wrong-purpose keys', () => {
    const rootHash = Buffer.alloc(32, 7);
    const note = signCheckpoint({ origin: 'example.com/log', treeSize: 42, rootHash }, signer);
    expect(note.split('\n').slice(0, 3)).toEqual(['example.com/log', '42', rootHash.toString('base64')]);
    const cp = verifyCheckpoint(note, trusted, 'cp');
    expect(cp).toMatchObject({ origin: 'example.com/log', treeSize: 42 });
    expect(cp.rootHash.equals(rootHash)).toBe(true);
    expect(() => verifyCheckpoint(note.replace('\n42\n', '\n43\n'), trusted, 'cp')).toThrow(/does not verify/);
    expect(() => verifyCheckpoint(note, { keys: [] }, 'cp')).toThrow(/not signed by any trusted/);
    expect(() => verifyCheckpoint(note, { keys: [{ ...trusted.keys[0]!, purposes: ['manifest'] }] }, 'cp')).toThrow(
      /not signed by any trusted/,
    );
    expect(() => verifyCheckpoint('no signature block', trusted, 'cp.txt')).toThrow(/cp.txt: signed note has no signature block/);
  });
});
