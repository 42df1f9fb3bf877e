import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../signing/index.js';
import { parseSignatureLine, signCheckpoint } from './checkpoint.js';
import { checkCosignatures, cosign, parseVkey, quorumProblems, vkeyOf } from './cosignature.js';

const keyPair = () => new LocalKeySigner(generateKeyPairSync('ed25519').privateKey);
const raw = (s: LocalKeySigner): Buffer => Buffer.from(s.publicKey.export({ format: 'jwk' }).x!, 'base64url');

describe('C2SP tlog-cosignature (Ed25519, cosignature/v1)', () => {
  const log = keyPair();
  const note = signCheckpoint({ origin: 'charter.test/audit', treeSize: 46, rootHash: Buffer.alloc(32, 7), extensions: ['x 1'] }, log);
  const text = note.slice(0, note.indexOf('\n\n') + 1);

  it('writes the line the spec describes: key id with type 0x04, big-endian timestamp, signature over the header, time line and note text', () => {
    const w = keyPair();
    const line = cosign(text, 'witness.example/w1', w, 1679315147);
    // checked here from the spec text, not with the production parser
    const m = /^\u2014 (\S+) (\S+)$/.exec(line)!;
    expect(m[1]).toBe('witness.example/w1');
    const blob = Buffer.from(m[2]!, 'base64');
    expect(blob).toHaveLength(4 + 8 + 64);
    const keyId = createHash('sha256')
      .update(Buffer.concat([Buffer.from('witness.example/w1\n'), Buffer.from([0x04]), raw(w)]))
      .digest()
      .subarray(0, 4);
    expect(blob.subarray(0, 4)).toEqual(keyId);
    expect(blob.readBigUInt64BE(4)).toBe(1679315147n);
    const message = Buffer.from(`cosignature/v1\ntime 1679315147\n${text}`);
    expect(verify(null, message, w.publicKey, blob.subarray(12))).toBe(true);
  });

  it('vkeys round-trip; valid, forged and unknown cosignatures are told apart; the quorum names who is missing', () => {
    const w1 = { name: 'w1.example', publicKey: keyPair().publicKey };
    const s1 = keyPair();
    const s2 = keyPair();
    const k1 = { name: 'w1.example', publicKey: s1.publicKey };
    const k2 = { name: 'w2.example', publicKey: s2.publicKey };
    expect(parseVkey(vkeyOf(k1), 'vkey').publicKey.equals(s1.publicKey)).toBe(true);
    expect(vkeyOf(w1)).toMatch(/^w1\.example\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(() => parseVkey(vkeyOf(k1).replace('w1.example', 'w9.example'), 'vkey')).toThrow(/key id .* does not match/);

    const good = parseSignatureLine(cosign(text, 'w1.example', s1, 100))!;
    const forgedBlob = Buffer.from(parseSignatureLine(cosign(text, 'w2.example', s2, 100))!.blob);
    forgedBlob[20]! ^= 1;
    const forged = parseSignatureLine(`\u2014 w2.example ${forgedBlob.toString('base64')}`)!;
    const stranger = parseSignatureLine(cosign(text, 'w2.example', keyPair(), 100))!;
    expect(checkCosignatures(text, [good, forged, stranger], [k1, k2])).toEqual([
      { witness: 'w1.example', valid: true, timestamp: 100 },
      { witness: 'w2.example', valid: false, line: forged.line },
    ]);
    // a cosignature over another checkpoint does not count
    expect(checkCosignatures(text.replace('46', '47'), [good], [k1])).toEqual([expect.objectContaining({ valid: false })]);
    expect(quorumProblems(text, [good], { witnesses: [k1, k2], quorum: 1 }, 'cp')).toEqual([]);
    expect(quorumProblems(text, [good, stranger], { witnesses: [k1, k2], quorum: 2 }, 'cp')).toEqual([
      'cp has 1 valid witness cosignature(s), the quorum is 2: missing w2.example',
    ]);
    expect(quorumProblems(text, [good, forged], { witnesses: [k1, k2], quorum: 1 }, 'cp')).toEqual([
      'cp: the cosignature by witness w2.example does not verify (forged or altered)',
    ]);
  });
});
