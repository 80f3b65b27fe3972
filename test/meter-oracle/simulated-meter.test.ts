import t from "tap";
import { loadProfiles } from "../../meter-oracle/profile.js";
import {
  hourWh,
  profileHour,
  simulatedHousehold,
  simulatedIntervals,
} from "../../meter-oracle/simulated-meter.js";

const isCode = (code: string) => ({ name: "MeterDataError", code });
const utc = (iso: string) => BigInt(Date.parse(`${iso}Z`) / 1000);
const profiles = await loadProfiles();
const WEEK_FROM = utc("2011-07-04T00:00:00");
const WEEK_TO = WEEK_FROM + 7n * 86_400n;

const week = (seed: number, index: number) =>
  [...simulatedIntervals(simulatedHousehold(profiles, seed, index), WEEK_FROM, WEEK_TO)].map(
    (i) => i.wh,
  );

t.test("deterministic by seed and household", async (t) => {
  t.same(simulatedHousehold(profiles, 42, 7), simulatedHousehold(profiles, 42, 7));
  t.same(week(42, 7), week(42, 7));
  t.equal(week(42, 7).length, 7 * 24);
});

t.test("different seeds and households differ", async (t) => {
  const weeks = new Set<string>();
  for (let seed = 0; seed < 8; seed++) weeks.add(week(seed, 0).join(","));
  t.equal(weeks.size, 8, "eight seeds, eight different weeks");
  const households = new Set<string>();
  for (let index = 0; index < 8; index++) households.add(week(1, index).join(","));
  t.equal(households.size, 8);
  const picked = new Set<string>();
  for (let index = 0; index < 60; index++)
    picked.add(simulatedHousehold(profiles, 9, index).profile.id);
  t.equal(picked.size, profiles.profiles.length, "every shape is used across a population");
});

t.test("any range, in any pieces, gives the same hours", async (t) => {
  const h = simulatedHousehold(profiles, 3, 11);
  const whole = [...simulatedIntervals(h, WEEK_FROM, WEEK_TO)];
  const pieces = [
    ...simulatedIntervals(h, WEEK_FROM, WEEK_FROM + 90_000n),
    ...simulatedIntervals(h, WEEK_FROM + 90_000n, WEEK_TO),
  ];
  t.same(pieces, whole);
  t.ok(whole.every((i, n) => i.start === WEEK_FROM + BigInt(n) * 3600n && i.durationSec === 3600n));
  t.same([...simulatedIntervals(h, 10n, 3_610n)], [], "only complete hours are metered");
  t.same(
    [...simulatedIntervals(h, 10n, 7_200n)].map((i) => i.start),
    [3_600n],
  );
  t.equal(hourWh(h, utc("2011-07-05T18:00:00")), whole[42]?.wh);
});

t.test("each hour is the shifted profile hour, scaled, within the noise band", async (t) => {
  const h = simulatedHousehold(profiles, 5, 2, { utcOffsetSec: -28_800n });
  t.ok(h.scalePpm >= 600_000n && h.scalePpm <= 1_600_000n);
  t.ok(h.shiftHours >= -2n && h.shiftHours <= 2n);
  for (const { start, wh } of simulatedIntervals(h, WEEK_FROM, WEEK_TO)) {
    const local = start - 28_800n + h.shiftHours * 3600n;
    const base = BigInt(h.profile.hourlyWh[profileHour(local)] ?? 0);
    const low = (base * h.scalePpm * 850_000n) / 10n ** 12n;
    const high = (base * h.scalePpm * 1_150_000n) / 10n ** 12n;
    if (wh < low || wh > high) t.fail(`hour ${start}: ${wh} outside ${low}..${high}`);
  }
  const quiet = simulatedHousehold(profiles, 5, 2, {
    utcOffsetSec: -28_800n,
    noisePpm: 0,
    scalePpm: [1_000_000, 1_000_000],
    maxShiftHours: 0,
  });
  // No noise, scale 1, no shift, the profile's own offset: the profile itself.
  const profile = quiet.profile;
  const hours = [...simulatedIntervals(quiet, profile.start, profile.start + 8760n * 3600n)];
  t.same(
    hours.map((i) => Number(i.wh)),
    [...profile.hourlyWh],
  );
});

t.test("calendar positions in a common year", async (t) => {
  t.equal(profileHour(utc("2011-01-01T00:00:00")), 0);
  t.equal(profileHour(utc("2030-01-01T05:59:59")), 5);
  t.equal(profileHour(utc("2011-12-31T23:00:00")), 8759);
  t.equal(profileHour(utc("2012-02-29T12:00:00")), profileHour(utc("2011-02-28T12:00:00")));
  t.equal(
    profileHour(utc("2012-03-01T00:00:00")),
    59 * 24,
    "after a leap day, March is still day 59",
  );
});

t.test("options out of range are refused", async (t) => {
  const bad = [
    () => simulatedHousehold(profiles, -1, 0),
    () => simulatedHousehold(profiles, 1.5, 0),
    () => simulatedHousehold(profiles, 0, 2 ** 32),
    () => simulatedHousehold(profiles, 0, 0, { scalePpm: [2, 1] }),
    () => simulatedHousehold(profiles, 0, 0, { noisePpm: 1_000_000 }),
    () => simulatedHousehold(profiles, 0, 0, { maxShiftHours: -1 }),
    () => simulatedHousehold({ ...profiles, profiles: [] }, 0, 0),
  ];
  for (const f of bad) t.throws(f, isCode("BAD_OPTION"));
});
