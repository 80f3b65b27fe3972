// Derives greenbutton-profiles.json from the Green Button sample files. Run once by hand:
//   node dist/meter-oracle/profiles/derive.js <dir with the .xml files> [output.json]
// The project never reads the sample files at run or test time; it reads this output.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { readEspi } from "../espi.js";
import { MeterDataError } from "../interval.js";
import {
  encodeProfiles,
  type HouseholdProfile,
  MAX_HOURLY_WH,
  PROFILE_HOURS,
  type ProfileSet,
} from "../profile.js";

const ATTRIBUTION =
  "Hourly profiles derived from the Green Button sample data files " +
  "(Copyright (c) 2012,2013 EnergyOS.org; packaging Copyright 2016 Phil! Gold), " +
  "licensed under the Apache License, Version 2.0. See meter-oracle/profiles/NOTICE.";

async function deriveProfile(path: string): Promise<HouseholdProfile> {
  const source = basename(path);
  let label: string | undefined;
  let utcOffsetSec: bigint | undefined;
  let start: bigint | undefined;
  const values: number[] = [];
  for await (const event of readEspi(createReadStream(path), { fileName: source })) {
    if (event.kind === "usage-point") label = event.title;
    else if (event.kind === "local-time") utcOffsetSec = event.tzOffsetSec;
    else if (event.kind === "block-skipped") throw new MeterDataError(event.code, event.reason);
    else if (event.kind === "interval") {
      const { interval } = event;
      start ??= interval.start;
      const expected = start + BigInt(values.length) * 3_600n;
      if (interval.durationSec !== 3_600n || interval.start !== expected) {
        throw new MeterDataError(
          "BAD_INTERVALS",
          `${source}: not contiguous hours at ${interval.start}`,
        );
      }
      if (interval.wh > BigInt(MAX_HOURLY_WH)) {
        throw new MeterDataError("BAD_PROFILE", `${source}: ${interval.wh} Wh does not fit u16`);
      }
      values.push(Number(interval.wh));
    }
  }
  if (label === undefined || utcOffsetSec === undefined || start === undefined) {
    throw new MeterDataError(
      "BAD_ESPI",
      `${source}: no UsagePoint title, LocalTimeParameters or data`,
    );
  }
  if (values.length !== PROFILE_HOURS) {
    throw new MeterDataError(
      "BAD_PROFILE",
      `${source}: ${values.length} hours, not ${PROFILE_HOURS}`,
    );
  }
  const id = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return {
    id,
    label,
    source,
    sourceSha256: await sha256File(path),
    start,
    utcOffsetSec,
    hourlyWh: Uint16Array.from(values),
    annualWh: values.reduce((sum, v) => sum + BigInt(v), 0n),
  };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

async function main(dir: string, out: string): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".xml")).sort();
  const profiles: HouseholdProfile[] = [];
  for (const file of files) {
    const profile = await deriveProfile(join(dir, file));
    console.log(`${profile.id}: ${profile.annualWh} Wh/year from ${profile.source}`);
    profiles.push(profile);
  }
  const set: ProfileSet = { license: "Apache-2.0", attribution: ATTRIBUTION, profiles };
  await writeFile(out, `${JSON.stringify(encodeProfiles(set), null, 1)}\n`);
  console.log(`wrote ${profiles.length} profiles to ${out}`);
}

const [dir, out = "meter-oracle/profiles/greenbutton-profiles.json"] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: derive <directory of Green Button .xml files> [output.json]");
  process.exitCode = 2;
} else {
  await main(dir, out);
}
