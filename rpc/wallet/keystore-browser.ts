// Opens a `wattcap wallet` keystore file where there is no node:crypto (the browser explorer):
// scrypt from @noble/hashes and AES-256-GCM from WebCrypto, with the same parameters, associated
// data and checks as rpc/wallet/keystore.ts, so a wrong password fails GCM's tag the same way.
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { concatBytes } from "../../lib/bytes.js";
import {
  checkOpenedKey,
  type KeystoreFile,
  scryptMaxmem,
  sealedParts,
  wrongPassword,
} from "./keystore-file.js";

/** The file must have passed parseKeystore, which bounds scrypt's cost. */
export async function decryptKeystore(
  file: KeystoreFile,
  password: string,
  source = "keystore",
): Promise<Uint8Array> {
  const { params, salt, iv, ciphertext, tag, aad } = sealedParts(file);
  const derived = await scryptAsync(password.normalize("NFKC"), salt, {
    ...params,
    dkLen: 32,
    maxmem: scryptMaxmem(params),
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
          iv: own(iv),
          additionalData: own(aad),
          tagLength: 128,
        },
        key,
        own(concatBytes(ciphertext, tag)),
      ),
    );
  } catch {
    throw wrongPassword(source);
  }
  return checkOpenedKey(secret, file, source);
}
