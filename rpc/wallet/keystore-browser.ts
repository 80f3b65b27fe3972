// Opens a `wattcap wallet` keystore file where there is no node:crypto (the browser explorer):
// scrypt from @noble/hashes and AES-256-GCM from WebCrypto, with the same parameters, associated
// data and checks as rpc/wallet/keystore.ts, so a wrong password fails GCM's tag the same way.
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { concatBytes, fromHex } from "../../lib/bytes.js";
import { aad, checkOpenedKey, type KeystoreFile, wrongPassword } from "./keystore-file.js";

/** The file must have passed parseKeystore, which bounds scrypt's cost. */
export async function decryptKeystore(
  file: KeystoreFile,
  password: string,
  source = "keystore",
): Promise<Uint8Array> {
  const { kdfparams, iv, ciphertext, tag } = file.crypto;
  const { N, r, p, salt } = kdfparams;
  const derived = await scryptAsync(password.normalize("NFKC"), fromHex(salt), {
    N,
    r,
    p,
    dkLen: 32,
    maxmem: 128 * N * r * p + (16 << 20),
  });
  // WebCrypto's types want ArrayBuffer-backed views: copies are.
  const own = (bytes: Uint8Array) => new Uint8Array(bytes);
  const key = await crypto.subtle.importKey("raw", own(derived), "AES-GCM", false, ["decrypt"]);
  let secret: Uint8Array;
  try {
    secret = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: own(fromHex(iv)),
          additionalData: own(aad(file.address)),
          tagLength: 128,
        },
        key,
        own(concatBytes(fromHex(ciphertext), fromHex(tag))),
      ),
    );
  } catch {
    throw wrongPassword(source);
  }
  return checkOpenedKey(secret, file, source);
}
