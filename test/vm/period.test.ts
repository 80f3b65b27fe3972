import fc from "fast-check";
import t from "tap";
import { civilFromDays, daysFromCivil } from "../../lib/civil.js";
import {
  type CalendarSchedule,
  calendarSchedule,
  type FixedSchedule,
  fixedSchedule,
  monthOf,
  PeriodError,
  type PeriodSchedule,
  periodEnd,
  periodOf,
  periodStart,
  periodTimeline,
  phaseAt,
} from "../../vm/period.js";

const DAY = 86_400_000n;
// Date.UTC is the independent oracle here; the vm itself never touches Date.
const utc = (y: number, m: number, d = 1, h = 0, min = 0): bigint =>
  BigInt(Date.UTC(y, m, d, h, min));

const fixedArb: fc.Arbitrary<FixedSchedule> = fc
  .record({
    start: fc.bigInt({ min: -(10n ** 13n), max: 10n ** 13n }),
    length: fc.bigInt({ min: 1n, max: 40n * DAY }),
    month: fc.integer({ min: 0, max: 11 }),
  })
  .map(({ start, length, month }) => fixedSchedule(start, length, month));

const calendarArb: fc.Arbitrary<CalendarSchedule> = fc
  .record({
    year: fc.integer({ min: 1900, max: 2400 }),
    month: fc.integer({ min: 0, max: 11 }),
    offset: fc.integer({ min: -720, max: 840 }),
  })
  .map(({ year, month, offset }) => calendarSchedule(year, month, offset));

const scheduleArb: fc.Arbitrary<PeriodSchedule> = fc.oneof(fixedArb, calendarArb);
const periodArb = fc.bigInt({ min: 0n, max: 3000n });

t.test("fixed schedule: start_k = start + k·length and month(k) = (firstMonth + k) mod 12", (t) => {
  const s = fixedSchedule(1_000n, 60_000n, 10);
  t.equal(periodStart(s, 0n), 1_000n);
  t.equal(periodStart(s, 5n), 301_000n);
  t.equal(periodEnd(s, 5n), 361_000n);
  t.equal(periodOf(s, 999n), undefined, "before genesis");
  t.equal(periodOf(s, 1_000n), 0n);
  t.equal(periodOf(s, 60_999n), 0n);
  t.equal(periodOf(s, 61_000n), 1n);
  t.same(
    [0n, 1n, 2n, 13n, 14n].map((k) => monthOf(s, k)),
    [10, 11, 0, 11, 0],
  );
  t.end();
});

t.test("calendar schedule matches Date.UTC on known dates", (t) => {
  const utcJan2024 = calendarSchedule(2024, 0, 0);
  t.equal(periodStart(utcJan2024, 0n), utc(2024, 0), "2024-01-01T00:00Z");
  t.equal(periodStart(utcJan2024, 1n), utc(2024, 1), "2024-02-01T00:00Z");
  t.equal(periodEnd(utcJan2024, 1n) - periodStart(utcJan2024, 1n), 29n * DAY, "Feb 2024 is leap");
  t.equal(periodStart(utcJan2024, 12n), utc(2025, 0), "year rolls over");
  t.equal(periodEnd(utcJan2024, 13n) - periodStart(utcJan2024, 13n), 28n * DAY, "Feb 2025");
  const feb2100 = periodStart(utcJan2024, (2100n - 2024n) * 12n + 1n);
  t.equal(feb2100, utc(2100, 1), "2100-02-01");
  t.equal(
    periodStart(utcJan2024, (2100n - 2024n) * 12n + 2n) - feb2100,
    28n * DAY,
    "2100 not leap",
  );
  const feb2000 = calendarSchedule(2000, 1, 0);
  t.equal(periodEnd(feb2000, 0n) - periodStart(feb2000, 0n), 29n * DAY, "2000 is leap");

  const cet = calendarSchedule(2024, 1, 60);
  t.equal(periodStart(cet, 0n), utc(2024, 0, 31, 23), "+60 min: boundary at 23:00Z the day before");
  t.equal(periodOf(cet, utc(2024, 0, 31, 23) - 1n), undefined, "a ms before is before genesis");
  t.equal(periodOf(cet, utc(2024, 0, 31, 23)), 0n);
  t.equal(periodOf(cet, utc(2024, 1, 29, 22, 59)), 0n);
  t.equal(periodOf(cet, utc(2024, 1, 29, 23)), 1n, "March starts at 2024-02-29T23:00Z");
  t.equal(monthOf(cet, 0n), 1);
  t.equal(monthOf(cet, 11n), 0);

  const newYork = calendarSchedule(2023, 11, -300);
  t.equal(periodStart(newYork, 0n), utc(2023, 11, 1, 5), "−300 min: 05:00Z the same day");
  t.equal(periodStart(newYork, 1n), utc(2024, 0, 1, 5));
  t.equal(periodOf(newYork, utc(2024, 0, 1, 4, 59)), 0n);
  t.end();
});

t.test("calendar boundaries equal Date.UTC(y, m) − offset for any month and offset", (t) => {
  fc.assert(
    fc.property(calendarArb, periodArb, (s, k) => {
      const months = s.firstMonth + Number(k);
      const expected =
        utc(s.firstYear + Math.floor(months / 12), months % 12) - BigInt(s.offsetMinutes) * 60_000n;
      return periodStart(s, k) === expected;
    }),
  );
  t.end();
});

t.test("periods tile time: end_k = start_{k+1}, no gaps, no overlaps", (t) => {
  fc.assert(
    fc.property(scheduleArb, periodArb, (s, k) => {
      const start = periodStart(s, k);
      const end = periodEnd(s, k);
      return (
        end === periodStart(s, k + 1n) &&
        end > start &&
        periodOf(s, start) === k &&
        periodOf(s, end - 1n) === k &&
        periodOf(s, end) === k + 1n
      );
    }),
  );
  t.end();
});

t.test("periodOf(t) is the k with start_k ≤ t < end_k, undefined before genesis", (t) => {
  fc.assert(
    fc.property(scheduleArb, fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n }), (s, time) => {
      const k = periodOf(s, time);
      if (k === undefined) return time < periodStart(s, 0n);
      return periodStart(s, k) <= time && time < periodEnd(s, k);
    }),
  );
  t.end();
});

t.test("daysFromCivil and civilFromDays invert each other and agree with Date.UTC", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (day) => {
      const { year, month, day: d } = civilFromDays(BigInt(day));
      const roundTrip = daysFromCivil(year, month, d) === BigInt(day);
      const date = new Date(day * 86_400_000);
      return (
        roundTrip &&
        Number(year) === date.getUTCFullYear() &&
        Number(month) === date.getUTCMonth() + 1 &&
        Number(d) === date.getUTCDate()
      );
    }),
  );
  t.equal(daysFromCivil(1970n, 1n, 1n), 0n);
  t.equal(daysFromCivil(1969n, 12n, 31n), -1n);
  t.equal(daysFromCivil(2000n, 3n, 1n), 11_017n);
  t.end();
});

t.test("phases of a period follow its timeline", (t) => {
  const s = fixedSchedule(0n, 1_000n, 0);
  const d = { readingGrace: 100n, tradingWindow: 300n };
  t.same(periodTimeline(s, 2n, d), {
    start: 2_000n,
    end: 3_000n,
    finalisesAt: 3_100n,
    tradingEndsAt: 3_400n,
  });
  const at = (time: bigint) => phaseAt(s, 2n, time, d);
  t.equal(at(1_999n), "upcoming");
  t.equal(at(2_000n), "open");
  t.equal(at(2_999n), "open");
  t.equal(at(3_000n), "reading-grace");
  t.equal(at(3_099n), "reading-grace");
  t.equal(at(3_100n), "trading", "finalisation happens at end + grace");
  t.equal(at(3_399n), "trading");
  t.equal(at(3_400n), "closed");
  t.equal(phaseAt(s, 2n, 3_000n, { readingGrace: 0n, tradingWindow: 0n }), "closed");
  t.end();
});

t.test("bad schedules and periods throw typed errors", (t) => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof PeriodError ? e.code : "untyped";
    }
    return "none";
  };
  t.equal(
    code(() => fixedSchedule(0n, 0n, 0)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => fixedSchedule(0n, 1n, 12)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => fixedSchedule(0n, 1n, 1.5)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => calendarSchedule(2024, -1, 0)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => calendarSchedule(2024.5, 0, 0)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => calendarSchedule(2024, 0, 841)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => calendarSchedule(2024, 0, -721)),
    "BAD_SCHEDULE",
  );
  t.equal(
    code(() => calendarSchedule(2024, 0, 0.5)),
    "BAD_SCHEDULE",
  );
  const s = fixedSchedule(0n, 10n, 0);
  t.equal(
    code(() => periodStart(s, -1n)),
    "NEGATIVE_PERIOD",
  );
  t.equal(
    code(() => monthOf(s, -1n)),
    "NEGATIVE_PERIOD",
  );
  const grace = { readingGrace: -1n, tradingWindow: 0n };
  t.equal(
    code(() => phaseAt(s, 0n, 0n, grace)),
    "BAD_SCHEDULE",
  );
  t.end();
});
