import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import t from "tap";
import { equalBytes, fromHex, toHex } from "../../lib/bytes.js";
import { decode } from "../../lib/codec.js";
import {
  encodeSignedVote,
  ProposalSchema,
  type SignedVote,
  signProposal,
  signVote,
  VoteSchema,
  verifyVote,
} from "../../lib/vote.js";
import { parseConfig } from "../../node/config.js";
import { homePaths, initHome, renderKeyFile } from "../../node/home.js";
import {
  type ConsensusSigner,
  DoubleSignError,
  GuardedSigner,
  LocalFileSigner,
  openConsensusSigner,
  RemoteSigner,
} from "../../node/signer.js";
import { Wal } from "../../node/wal.js";
import { proposal, SECRET_KEY, signer, tempDir, vote } from "./fixtures/signing.js";

async function guardedAt(t: { teardown(fn: () => unknown): void }, path: string) {
  const wal = await Wal.open(path);
  t.teardown(() => wal.close());
  return { wal, guarded: new GuardedSigner(signer, wal) };
}

t.test("a repeated identical request returns the same signed bytes", async (t) => {
  const { wal, guarded } = await guardedAt(t, join(await tempDir(t), "signing.wal"));
  t.same(guarded.publicKey, signer.publicKey);
  t.same(guarded.address, signer.address);
  const first = await guarded.signVote(vote(3n, 1, "prevote", 1));
  t.ok(verifyVote(first, signer.publicKey), "the signature verifies");
  const again = await guarded.signVote(vote(3n, 1, "prevote", 1));
  t.ok(equalBytes(encodeSignedVote(again), encodeSignedVote(first)), "identical bytes");
  t.equal(wal.records().length, 1, "recorded once");

  const p1 = await guarded.signProposal(proposal(3n, 1, 1));
  const p2 = await guarded.signProposal(proposal(3n, 1, 1));
  t.ok(equalBytes(p1.signature, p2.signature));
  t.equal(wal.records().length, 2);
});

t.test(
  "a conflicting request for a signed step is refused and leaves the WAL as it was",
  async (t) => {
    const { wal, guarded } = await guardedAt(t, join(await tempDir(t), "signing.wal"));
    await guarded.signVote(vote(3n, 1, "prevote", 1));
    await t.rejects(guarded.signVote(vote(3n, 1, "prevote", 2)), DoubleSignError);
    await t.rejects(guarded.signVote(vote(3n, 1, "prevote", null)), {
      code: "DOUBLE_SIGN",
      step: { height: 3n, round: 1, step: "prevote" },
    });
    await guarded.signProposal(proposal(3n, 1, 1));
    await t.rejects(guarded.signProposal(proposal(3n, 1, 2)), { code: "DOUBLE_SIGN" });
    t.equal(wal.records().length, 2);

    // Other steps, rounds and heights are free.
    await guarded.signVote(vote(3n, 1, "precommit", 2));
    await guarded.signVote(vote(3n, 2, "prevote", 2));
    await guarded.signVote(vote(4n, 1, "prevote", 2));
    t.equal(wal.records().length, 5);
  },
);

t.test("the guard holds across a restart (the WAL reopened)", async (t) => {
  const path = join(await tempDir(t), "signing.wal");
  const before = await Wal.open(path);
  const first = await new GuardedSigner(signer, before).signVote(vote(9n, 0, "precommit", 4));
  await before.close();

  const { guarded } = await guardedAt(t, path);
  const again = await guarded.signVote(vote(9n, 0, "precommit", 4));
  t.ok(equalBytes(again.signature, first.signature), "the same signature after the restart");
  await t.rejects(guarded.signVote(vote(9n, 0, "precommit", 5)), { code: "DOUBLE_SIGN" });
});

t.test("the guard holds across a crash of another process", async (t) => {
  const path = join(await tempDir(t), "signing.wal");
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL("./fixtures/sign-once.js", import.meta.url)), path, "12", "6"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  t.teardown(() => {
    child.kill("SIGKILL");
  });
  let output = "";
  for await (const chunk of child.stdout!) {
    output += chunk;
    if (output.includes("\n")) break;
  }
  const closed = once(child, "close");
  child.kill("SIGKILL");
  await closed;
  const [word, hex] = output.trim().split(" ");
  t.equal(word, "signature");

  const { guarded } = await guardedAt(t, path);
  await t.rejects(guarded.signVote(vote(12n, 0, "prevote", 7)), { code: "DOUBLE_SIGN" });
  const same = await guarded.signVote(vote(12n, 0, "prevote", 6));
  t.equal(toHex(same.signature), hex, "the crashed process's signature is returned");
});

t.test("concurrent conflicting requests: exactly one is signed", async (t) => {
  const { wal, guarded } = await guardedAt(t, join(await tempDir(t), "signing.wal"));
  const results = await Promise.allSettled(
    [1, 2, 3].map((v) => guarded.signVote(vote(1n, 0, "prevote", v))),
  );
  t.equal(results.filter((r) => r.status === "fulfilled").length, 1);
  t.equal(results.filter((r) => r.status === "rejected").length, 2);
  t.equal(wal.records().length, 1);
});

t.test("refusals: another validator, below the floor, a bad inner signature", async (t) => {
  const { wal, guarded } = await guardedAt(t, join(await tempDir(t), "signing.wal"));
  const other = new Uint8Array(20).fill(1);
  await t.rejects(guarded.signVote(vote(1n, 0, "prevote", 1, other)), { code: "NOT_OUR_KEY" });
  await t.rejects(guarded.signProposal({ ...proposal(1n, 0, 1), proposer: other }), {
    code: "NOT_OUR_KEY",
  });

  await guarded.signVote(vote(5n, 0, "prevote", 1));
  await wal.compact(5n);
  await t.rejects(guarded.signVote(vote(4n, 0, "prevote", 1)), { code: "BELOW_FLOOR" });
  await t.rejects(guarded.signProposal(proposal(4n, 0, 1)), { code: "BELOW_FLOOR" });

  await t.rejects(
    guarded.signVote({ ...vote(7n, 0, "prevote", 1), chainId: "x".repeat(65) }),
    {
      code: "SCHEMA",
    },
    "an unencodable vote is a rejected promise, not a throw",
  );

  const liar: ConsensusSigner = {
    publicKey: signer.publicKey,
    address: signer.address,
    // Signs something else than asked: the signature does not match the vote returned.
    signVote: async (v) => ({
      vote: v,
      signature: signVote({ ...v, round: v.round + 1 }, SECRET_KEY).signature,
    }),
    // Returns a correctly signed but different proposal.
    signProposal: async (p) => signer.signProposal({ ...p, blockHash: new Uint8Array(32) }),
  };
  const guardedLiar = new GuardedSigner(liar, wal);
  await t.rejects(guardedLiar.signVote(vote(6n, 0, "prevote", 1)), { code: "BAD_SIGNATURE" });
  await t.rejects(guardedLiar.signProposal(proposal(6n, 0, 1)), { code: "BAD_SIGNATURE" });
  t.equal(wal.records().length, 1, "nothing recorded for a bad signature");
});

t.test("property: never two different signed values for one step, across restarts", async (t) => {
  const dir = await tempDir(t);
  let run = 0;
  const request = fc.record({
    height: fc.bigInt({ min: 1n, max: 2n }),
    round: fc.integer({ min: 0, max: 1 }),
    type: fc.constantFrom("prevote" as const, "precommit" as const),
    value: fc.constantFrom(1, 2, null),
    restart: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 8 }), async (requests) => {
      const path = join(dir, `run-${run++}.wal`);
      let wal = await Wal.open(path);
      let guarded = new GuardedSigner(signer, wal);
      const signed = new Map<string, SignedVote>();
      try {
        for (const r of requests) {
          if (r.restart) {
            await wal.close();
            wal = await Wal.open(path);
            guarded = new GuardedSigner(signer, wal);
          }
          const key = `${r.height}/${r.round}/${r.type}`;
          const requested = vote(r.height, r.round, r.type, r.value);
          const earlier = signed.get(key);
          try {
            const result = await guarded.signVote(requested);
            if (earlier && !equalBytes(encodeSignedVote(earlier), encodeSignedVote(result))) {
              return false;
            }
            if (
              !equalBytes(
                result.vote.blockHash ?? new Uint8Array(),
                requested.blockHash ?? new Uint8Array(),
              )
            ) {
              return false;
            }
            signed.set(key, result);
          } catch (error) {
            if (!(error instanceof DoubleSignError) || earlier === undefined) return false;
          }
        }
        return true;
      } finally {
        await wal.close();
      }
    }),
    { numRuns: 30, seed: 42 },
  );
  t.pass("held for 30 random request sequences");
});

t.test("LocalFileSigner reads a 0600 validator key file only", async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, "validator.key");
  await writeFile(path, renderKeyFile({ type: "validator", secretKey: SECRET_KEY }), {
    mode: 0o600,
  });
  const local = await LocalFileSigner.load(path);
  t.same(local.address, signer.address);
  await chmod(path, 0o644);
  await t.rejects(LocalFileSigner.load(path), { code: "PERMISSIONS" });
  const oracle = join(dir, "oracle.key");
  await writeFile(oracle, renderKeyFile({ type: "oracle", secretKey: SECRET_KEY }), {
    mode: 0o600,
  });
  await t.rejects(LocalFileSigner.load(oracle), { code: "WRONG_KEY_TYPE" });
});

// ---------------------------------------------------------------------------------------------
// The remote signer protocol, against a stand-in service that signs with the test key.

type Handler = (body: { type: string; message: string }, res: ServerResponse) => void;

function honest(body: { type: string; message: string }, res: ServerResponse): void {
  const message = fromHex(body.message);
  const signed =
    body.type === "vote"
      ? signVote(decode(VoteSchema, message), SECRET_KEY).signature
      : signProposal(decode(ProposalSchema, message), SECRET_KEY).signature;
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ signature: toHex(signed) }));
}

async function service(
  t: { teardown(fn: () => unknown): void },
  handler: Handler,
  listen: { port: number } | { path: string },
): Promise<Server> {
  const server = createServer((req: IncomingMessage, res) => {
    let text = "";
    req.on("data", (c) => {
      text += c;
    });
    req.on("end", () => handler(JSON.parse(text), res));
  });
  await new Promise<void>((resolve) => server.listen({ ...listen, host: "127.0.0.1" }, resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return server;
}

t.test("RemoteSigner over TCP and over a Unix socket, guarded", async (t) => {
  const dir = await tempDir(t);
  const tcp = await service(t, honest, { port: 0 });
  const url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/sign`;
  const remote = new RemoteSigner({ url, publicKey: signer.publicKey, timeoutMs: 2000 });
  t.same(remote.address, signer.address);
  const wal = await Wal.open(join(dir, "signing.wal"));
  t.teardown(() => wal.close());
  const guarded = new GuardedSigner(remote, wal);
  const v = await guarded.signVote(vote(2n, 0, "prevote", 3));
  t.ok(verifyVote(v, signer.publicKey));
  const p = await guarded.signProposal(proposal(2n, 0, 3));
  t.ok(equalBytes(p.signature, (await signer.signProposal(proposal(2n, 0, 3))).signature));

  const socketPath = join(dir, "signer.sock");
  await service(t, honest, { path: socketPath });
  const overSocket = new RemoteSigner({
    url: "http://signer/sign",
    socketPath,
    publicKey: signer.publicKey,
    timeoutMs: 2000,
  });
  const s = await overSocket.signVote(vote(2n, 0, "precommit", 3));
  t.ok(verifyVote(s, signer.publicKey));
});

t.test("RemoteSigner failures are SignerError REMOTE or BAD_SIGNATURE", async (t) => {
  const dir = await tempDir(t);
  const wal = await Wal.open(join(dir, "signing.wal"));
  t.teardown(() => wal.close());
  const at = async (handler: Handler) => {
    const server = await service(t, handler, { port: 0 });
    return new RemoteSigner({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      publicKey: signer.publicKey,
      timeoutMs: 300,
    });
  };
  const refusing = await at((_b, res) => res.writeHead(409).end("already signed"));
  await t.rejects(refusing.signVote(vote(1n, 0, "prevote", 1)), {
    code: "REMOTE",
    message: /status 409: already signed/,
  });
  const garbled = await at((_b, res) => res.writeHead(200).end("{nope"));
  await t.rejects(garbled.signVote(vote(1n, 0, "prevote", 1)), {
    code: "REMOTE",
    message: /not JSON/,
  });
  const short = await at((_b, res) => res.writeHead(200).end(JSON.stringify({ signature: "00" })));
  await t.rejects(short.signVote(vote(1n, 0, "prevote", 1)), {
    code: "REMOTE",
    message: /64-byte/,
  });
  const silent = await at(() => undefined);
  await t.rejects(silent.signVote(vote(1n, 0, "prevote", 1)), {
    code: "REMOTE",
    message: /timed out/,
  });
  const huge = await at((_b, res) => res.writeHead(200).end("x".repeat(10_000)));
  await t.rejects(huge.signVote(vote(1n, 0, "prevote", 1)), {
    code: "REMOTE",
    message: /too large/,
  });
  const unreachable = new RemoteSigner({
    url: "http://127.0.0.1:1/",
    publicKey: signer.publicKey,
    timeoutMs: 300,
  });
  await t.rejects(unreachable.signVote(vote(1n, 0, "prevote", 1)), { code: "REMOTE" });

  // A service signing with another key than configured.
  const otherKey = new Uint8Array(32).fill(9);
  const impostor = await at((body, res) => {
    const sig = signVote(decode(VoteSchema, fromHex(body.message)), otherKey).signature;
    res.writeHead(200).end(JSON.stringify({ signature: toHex(sig) }));
  });
  await t.rejects(new GuardedSigner(impostor, wal).signVote(vote(1n, 0, "prevote", 1)), {
    code: "BAD_SIGNATURE",
  });
  t.equal(wal.records().length, 0);

  t.throws(() => new RemoteSigner({ url: "ftp://x/", publicKey: signer.publicKey, timeoutMs: 1 }), {
    code: "REMOTE",
  });
  t.throws(
    () => new RemoteSigner({ url: "http://x/", publicKey: new Uint8Array(33), timeoutMs: 1 }),
    {
      code: "REMOTE",
    },
  );
});

t.test("openConsensusSigner follows signer.kind", async (t) => {
  const home = join(await tempDir(t), "home");
  const init = await initHome({ home, moniker: "n" });
  const paths = homePaths(home);
  const local = await openConsensusSigner(parseConfig({ home, file: {} }), paths);
  t.ok(local instanceof LocalFileSigner);
  t.same(local.publicKey, init.validator.publicKey);
  const remoteConfig = parseConfig({
    home,
    file: {
      signer: { kind: "remote", url: "http://127.0.0.1:9/", publicKey: toHex(signer.publicKey) },
    },
  });
  const remote = await openConsensusSigner(remoteConfig, paths);
  t.ok(remote instanceof RemoteSigner);
  t.same(remote.address, signer.address);
});
