// Byzantine validator doubles for fault tests. A Byzantine operator runs other code with its own
// key, so these sign with the raw key (a LocalFileSigner read from the home), beside the node's
// GuardedSigner: the node's own signing path and its WAL are untouched. They act on what the
// node's consensus publishes (node/node.ts NodeTestHooks.publish) and on what it serves to vote
// and proposal requests, under the modes the fault plan switches on (test/harness/fault-plan.ts).
import { blockHash, decodeBlock, encodeBlock, type Header } from "../../lib/block.js";
import { equalBytes } from "../../lib/bytes.js";
import { sha256 } from "../../lib/hash.js";
import { decodeSignedVote, encodeSignedVote } from "../../lib/vote.js";
import { decodeProposalEnvelope, encodeProposalEnvelope } from "../../node/consensus-driver.js";
import type { GossipKind, ReqRespHandlers } from "../../node/p2p/index.js";
import type { ConsensusSigner } from "../../node/signer.js";
import type { ByzantineMode } from "./fault-plan.js";

type Send = (kind: GossipKind, data: Uint8Array) => Promise<unknown>;

/** Garbage messages sent per flood tick (every 100 ms). */
const FLOOD_BURST = 50;

export class Byzantine {
  /** How often each behaviour acted, for the fault report. */
  readonly counts: Record<string, number> = {};
  #floodTimer: NodeJS.Timeout | undefined;
  #floodSeq = 0;

  constructor(
    private readonly signer: ConsensusSigner,
    private readonly modes: () => readonly ByzantineMode[],
  ) {}

  #on(mode: ByzantineMode): boolean {
    return this.modes().includes(mode);
  }

  #count(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }

  #ours(validator: Uint8Array): boolean {
    return equalBytes(validator, this.signer.address);
  }

  /** NodeTestHooks.publish: forwards, drops, doubles or replaces consensus messages. */
  publish = async (kind: GossipKind, data: Uint8Array, send: Send): Promise<unknown> => {
    if (kind === "vote") return this.#vote(data, send);
    if (kind === "proposal") return this.#proposal(data, send);
    return send(kind, data);
  };

  async #vote(data: Uint8Array, send: Send): Promise<unknown> {
    const signed = decodeSignedVote(data);
    const vote = signed.vote;
    if (!this.#ours(vote.validator)) return send("vote", data);
    if (this.#on("withhold-votes")) {
      this.#count("votesWithheld");
      return [];
    }
    const sent = await send("vote", data);
    if (this.#on("equivocate") && vote.type === "prevote") {
      // A prevote for a block no one proposed, conflicting with the one just sent.
      const other = sha256(vote.blockHash ?? new Uint8Array(32));
      const second = await this.signer.signVote({ ...vote, blockHash: other });
      await send("vote", encodeSignedVote(second));
      this.#count("equivocations");
    }
    return sent;
  }

  async #proposal(data: Uint8Array, send: Send): Promise<unknown> {
    const envelope = decodeProposalEnvelope(data);
    const proposal = envelope.proposal.proposal;
    if (!this.#ours(proposal.proposer) || proposal.polRound !== undefined) {
      return send("proposal", data);
    }
    const block = decodeBlock(envelope.block);
    const forge = async (header: Header) => {
      const forged = { ...block, header };
      const signed = await this.signer.signProposal({ ...proposal, blockHash: blockHash(forged) });
      return encodeProposalEnvelope({ proposal: signed, block: encodeBlock(forged) });
    };
    const field = this.#tamperedField();
    if (field) {
      this.#count(field === "txRoot" ? "invalidBlocks" : "wrongStateRoots");
      return send(
        "proposal",
        await forge({ ...block.header, [field]: sha256(block.header[field]) }),
      );
    }
    const sent = await send("proposal", data);
    if (this.#on("equivocate")) {
      // A second block for the same round, a millisecond later: both may well be valid.
      await send("proposal", await forge({ ...block.header, time: block.header.time + 1n }));
      this.#count("proposalEquivocations");
    }
    return sent;
  }

  #tamperedField(): "txRoot" | "stateRoot" | undefined {
    if (this.#on("invalid-block")) return "txRoot";
    if (this.#on("wrong-state-root")) return "stateRoot";
    return undefined;
  }

  /**
   * The request handlers, made to keep the forgery consistent: a withholder does not hand out
   * its votes on request either, and a forger does not hand out the honest block it built.
   */
  handlers(inner: ReqRespHandlers): ReqRespHandlers {
    return {
      ...inner,
      votes: async (request, peer, signal) => {
        const items = await inner.votes(request, peer, signal);
        const out: Uint8Array[] = [];
        for await (const vote of items) {
          if (this.#on("withhold-votes") && this.#ours(decodeSignedVote(vote).vote.validator)) {
            continue;
          }
          out.push(vote);
        }
        return out;
      },
      proposal: async (request, peer, signal) => {
        const envelope = await inner.proposal(request, peer, signal);
        if (envelope === undefined || this.#tamperedField() === undefined) return envelope;
        const ours = this.#ours(decodeProposalEnvelope(envelope).proposal.proposal.proposer);
        return ours ? undefined : envelope;
      },
    };
  }

  /** Starts or stops the flood as the plan says; `send` publishes straight to gossip. */
  updateFlood(send: Send): void {
    if (this.#on("flood") && !this.#floodTimer) {
      this.#floodTimer = setInterval(() => {
        for (let i = 0; i < FLOOD_BURST; i++) {
          const junk = sha256(new TextEncoder().encode(`flood ${this.#floodSeq++}`));
          const kind: GossipKind = i % 2 === 0 ? "vote" : "tx";
          send(kind, junk).catch(() => undefined);
          this.#count("floodMessages");
        }
      }, 100);
    } else if (!this.#on("flood") && this.#floodTimer) {
      this.stop();
    }
  }

  stop(): void {
    if (this.#floodTimer) clearInterval(this.#floodTimer);
    this.#floodTimer = undefined;
  }
}
