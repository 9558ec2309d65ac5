/**
 * A child process for rotate-files-kill.test.ts: writes one blob through the data-folder
 * storage, a token at a time, printing "token N" after each, and never finishes on its own
 * (it is killed mid-write). argv: <root folder> <blob id>; env BLOB_KEY: the Fernet key.
 */
import { createKeyring } from '../../src/server/crypto/keyring.js';
import { createLocalFileStorage } from '../../src/server/files/local-file-storage.js';

const [root, blobId] = process.argv.slice(2);
const keyring = createKeyring(process.env.BLOB_KEY!);

async function* endless(): AsyncGenerator<string> {
  for (let i = 0; ; i++) {
    yield keyring.encryptBytes(Buffer.alloc(64 * 1024, i % 256)).ciphertext;
    process.stdout.write(`token ${i}\n`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

await createLocalFileStorage(root!).write(blobId!, endless());
