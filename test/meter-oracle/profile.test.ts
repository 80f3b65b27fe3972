import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import t from "tap";
import {
  decodeProfiles,
  defaultProfilesUrl,
  encodeProfiles,
  loadProfiles,
  PROFILE_HOURS,
} from "../../meter-oracle/profile.js";

const isCode = (code: string) => ({ name: "MeterDataError", code });
const path = fileURLToPath(defaultProfilesUrl());

// Annual sums of the six source files, found when the profiles were derived.
const ANNUAL_WH: Record<string, bigint> = {
  "coastal-multi-family": 4_425_305n,
  "desert-multi-family": 5_219_781n,
  "desert-single-family": 12_397_107n,
  "inland-multi-family": 4_800_263n,
  "inland-single-family": 8_343_306n,
  "mountain-multi-family": 5_955_741n,
};

t.test("the committed profiles load: six, 8760 hours each, sums as derived", async (t) => {
  const set = await loadProfiles();
  t.equal(set.profiles.length, 6);
  t.equal(set.license, "Apache-2.0");
  t.match(set.attribution, /EnergyOS\.org.*Apache License, Version 2\.0.*NOTICE/);
  for (const p of set.profiles) {
    t.equal(p.hourlyWh.length, PROFILE_HOURS, p.id);
    const sum = p.hourlyWh.reduce((s, v) => s + BigInt(v), 0n);
    t.equal(sum, p.annualWh, `${p.id} sums to its recorded annual Wh`);
    t.equal(p.annualWh, ANNUAL_WH[p.id], `${p.id} matches its source file`);
    t.equal(p.start, 1_293_868_800n, "hour 0 is local midnight, 1 January 2011, PST");
    t.equal(p.utcOffsetSec, -28_800n);
    t.match(p.source, /^[A-Za-z_]+_Jan_1_2011_to_Jan_1_2012_RetailCustomer_\d+\.xml$/);
    t.match(p.sourceSha256, /^[0-9a-f]{64}$/);
  }
  // The first hour of the Coastal file is 1 January 2011 00:00 PST.
  t.equal(set.profiles.find((p) => p.id === "coastal-multi-family")?.hourlyWh[0], 450);
  t.ok(existsSync(new URL("NOTICE", defaultProfilesUrl())), "NOTICE sits beside the profiles");
  t.ok(readFileSync(path).length < 300_000, "compact");
});

t.test("encode and decode round-trip", async (t) => {
  const set = await loadProfiles(path);
  const again = decodeProfiles(JSON.parse(JSON.stringify(encodeProfiles(set))));
  t.same(again, set);
});

t.test("damaged files are refused", async (t) => {
  const json = JSON.parse(readFileSync(path, "utf8"));
  const first = json.profiles[0];
  const flip = first.data[100] === "A" ? "B" : "A";
  const damaged = { ...first, data: first.data.slice(0, 100) + flip + first.data.slice(101) };
  const variants: [string, unknown][] = [
    ["a changed value", { ...json, profiles: [damaged] }],
    ["wrong format", { ...json, format: "other/1" }],
    ["no profiles", { ...json, profiles: [] }],
    ["short data", { ...json, profiles: [{ ...first, data: first.data.slice(0, 400) }] }],
    ["not base64", { ...json, profiles: [{ ...first, data: `!${first.data.slice(1)}` }] }],
    ["repeated id", { ...json, profiles: [first, first] }],
    ["bad id", { ...json, profiles: [{ ...first, id: "Not A Slug" }] }],
    ["hours", { ...json, profiles: [{ ...first, hours: 8784 }] }],
    ["annualWh not a string", { ...json, profiles: [{ ...first, annualWh: 5 }] }],
    ["offset", { ...json, profiles: [{ ...first, utcOffsetSec: 86_400 }] }],
    ["not an object", [1, 2]],
    ["null", null],
  ];
  for (const [name, value] of variants)
    t.throws(() => decodeProfiles(value), isCode("BAD_PROFILE"), name);
});
