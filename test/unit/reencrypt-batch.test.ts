/**
 * Which rows of a batch rotation re-encrypts. The integration tests cover the walk and the
 * guarded writes on both databases; this pins the choice per row, including a row in
 * another format that names a key, which the seeded data there never has.
 */
import { describe, expect, it } from 'vitest';
import { generateFernetKey } from '../../src/server/crypto/fernet.js';
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { ENCRYPTED_COLUMNS, type CiphertextRow, type EncryptedColumn } from '../../src/server/keys/keys.repository.js';
import { reencryptBatch } from '../../src/server/keys/keys.service.js';

const column = (table: EncryptedColumn['table']) => ENCRYPTED_COLUMNS.find((c) => c.table === table)!;

describe('reencryptBatch', () => {
  it('re-encrypts our rows under an older key, and leaves done, empty and foreign-format rows alone', () => {
    const oldKey = generateFernetKey();
    const underOld = createKeyring(oldKey);
    const AB = createKeyring(generateFernetKey(), [oldKey]);
    const mine = underOld.encrypt('rotate me');
    const e2e = underOld.encrypt('looks like ours, but the format says it is the client’s');
    const done = AB.encrypt('already under the primary key');
    const rows: CiphertextRow[] = [
      { id: 'old', ciphertext: mine.ciphertext, keyId: mine.keyId, format: 'fernet', position: 1 },
      { id: 'done', ciphertext: done.ciphertext, keyId: done.keyId, format: 'fernet', position: 2 },
      { id: 'empty', ciphertext: null, keyId: null, format: 'fernet', position: 3 },
      { id: 'e2e', ciphertext: e2e.ciphertext, keyId: e2e.keyId, format: 'e2e-test-v1', position: 4 },
    ];

    const replacements = reencryptBatch(AB, column('messages'), rows);

    expect(replacements.map((r) => r.row.id)).toEqual(['old']);
    const [replacement] = replacements;
    expect(replacement!.row.ciphertext).toBe(mine.ciphertext);
    expect(replacement!.keyId).toBe(AB.primaryKeyId);
    expect(AB.decrypt(replacement!.ciphertext, replacement!.keyId)).toBe('rotate me');
    expect(replacement).not.toHaveProperty('index');
  });

  it('recomputes the blind index for emails under the primary key', () => {
    const oldKey = generateFernetKey();
    const underOld = createKeyring(oldKey);
    const AB = createKeyring(generateFernetKey(), [oldKey]);
    const email = underOld.encrypt('ada@example.com');

    const [replacement] = reencryptBatch(AB, column('users'), [{ id: 'u1', ciphertext: email.ciphertext, keyId: email.keyId, position: 1 }]);

    expect(replacement!.index).toBe(AB.blindIndex('ada@example.com'));
    expect(replacement!.index).not.toBe(underOld.blindIndex('ada@example.com'));
  });
});
