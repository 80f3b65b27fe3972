import t from "tap";
import {
  addProposal,
  addVote,
  emptyLog,
  highestSkipRound,
  roundMessages,
} from "../../consensus/message-log.js";
import type { VoteValue } from "../../consensus/types.js";
import {
  emptyTally,
  recordVote,
  type VoteTally,
  votersFor,
  votesFor,
  withdrawVotes,
} from "../../consensus/vote-keeper.js";
import { value } from "./helpers.js";

const v1 = value(1);
const v2 = value(2);
const v3 = value(3);
const never = () => false;
const always = () => true;

function counted(tally: VoteTally, validator: number, v: VoteValue): VoteTally {
  const outcome = recordVote(tally, validator, v, never);
  if (outcome.kind !== "counted") throw new Error(outcome.kind);
  return outcome.tally;
}

t.test("a tally counts one vote per validator", async (t) => {
  const tally = counted(counted(counted(emptyTally(4), 0, v1), 2, null), 3, v1);
  t.equal(votesFor(tally, v1), 2);
  t.equal(votesFor(tally, value(1)), 2, "by bytes, not identity");
  t.equal(votesFor(tally, null), 1);
  t.equal(votesFor(tally, v2), 0);
  t.equal(tally.total, 3);
  t.same(votersFor(tally, v1), [0, 3]);
  t.same(votersFor(tally, null), [2]);
  t.equal(recordVote(tally, 0, value(1), always).kind, "ignored", "a duplicate");

  const withdrawn = withdrawVotes(tally, 3);
  t.equal(votesFor(withdrawn, v1), 1);
  t.equal(withdrawn.total, 2);
  t.same(votersFor(withdrawn, v1), [0]);
  t.equal(withdrawVotes(withdrawn, 1), withdrawn, "no vote, no change");
  t.equal(votesFor(tally, v1), 2, "the original tally is untouched");
});

t.test("conflicting votes are reported once and counted only when wanted", async (t) => {
  const tally = counted(counted(emptyTally(4), 0, v1), 1, v2);
  const dropped = recordVote(tally, 0, v2, never);
  if (dropped.kind !== "equivocation") throw new Error(dropped.kind);
  t.same(dropped.first, v1);
  t.equal(votesFor(dropped.tally, v2), 1, "not counted");
  t.same(dropped.tally.equivocators, [0]);
  t.equal(recordVote(dropped.tally, 0, v2, never).kind, "ignored", "reported once");
  const later = recordVote(dropped.tally, 0, v2, always);
  if (later.kind !== "conflict-counted") throw new Error(later.kind);
  t.same(votersFor(later.tally, v2), [0, 1], "counted once worth keeping");
  t.equal(later.tally.total, 2, "an equivocator is one sender");

  const kept = recordVote(tally, 1, null, (v) => v === null);
  if (kept.kind !== "equivocation") throw new Error(kept.kind);
  t.same(votersFor(kept.tally, null), [1]);
  t.same(votersFor(kept.tally, v2), [1], "its first vote still counts");
  const third = recordVote(kept.tally, 1, v3, never);
  t.equal(third.kind, "ignored");
  const all = withdrawVotes(kept.tally, 1);
  t.equal(votesFor(all, null) + votesFor(all, v2), 0, "withdrawn with all its votes");
});

t.test("a round keeps a second proposal only if f+1 validators voted for it", async (t) => {
  const p = (valueId: Uint8Array) => ({ polRound: -1, valueId, valid: true, timely: true });
  const first = addProposal(emptyLog(4), 0, 1, p(v1));
  if (first === null) throw new Error("first proposal refused");
  t.equal(addProposal(first, 0, 1, p(v1)), null, "duplicate");
  t.equal(addProposal(first, 0, 1, p(v2)), null, "unsupported");
  const oneVote = addVote(first, "precommit", 0, 2, v2).log;
  t.equal(addProposal(oneVote, 0, 1, p(v2)), null, "1 < f+1");
  const twoVotes = addVote(oneVote, "prevote", 0, 3, v2).log;
  t.equal(addProposal(twoVotes, 0, 1, p(v2)), null, "support is counted per vote type");
  const supported = addVote(twoVotes, "precommit", 0, 3, v2).log;
  const second = addProposal(supported, 0, 1, p(v2));
  t.same(
    second === null ? [] : roundMessages(second, 0).proposals.map((x) => x.valueId[0]),
    [1, 2],
  );
});

t.test("rounds are skipped to when f+1 distinct validators sent anything", async (t) => {
  let log = emptyLog(7);
  log = addVote(log, "prevote", 3, 1, v1).log;
  log = addVote(log, "precommit", 3, 1, v1).log;
  const proposed = addProposal(log, 3, 3, { polRound: -1, valueId: v1, valid: true, timely: true });
  if (proposed === null) throw new Error("proposal refused");
  t.equal(highestSkipRound(proposed, 0), null, "2 senders < f+1 = 3");
  const three = addVote(proposed, "prevote", 3, 5, null).log;
  t.equal(highestSkipRound(three, 0), 3);
  t.equal(highestSkipRound(three, 3), null, "only rounds above ours");
  let higher = three;
  for (const validator of [0, 2, 4]) higher = addVote(higher, "precommit", 5, validator, v2).log;
  t.equal(highestSkipRound(higher, 0), 5, "the highest");
});
