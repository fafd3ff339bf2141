/**
 * A strict reader of the Prometheus text exposition format (0.0.4), for
 * tests of `/metrics`: every line must be a HELP, a TYPE or a sample of a
 * declared family.
 *
 * @module
 */

import assert from "node:assert/strict";

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/**
 * A strict reader of the Prometheus text format 0.0.4: every line is a
 * HELP, a TYPE or a sample of a declared family; anything else throws.
 */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const name = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"/y;
  for (const [index, line] of text.split("\n").entries()) {
    if (line === "") continue;
    const where = `line ${index + 1}: ${line}`;
    let match = new RegExp(`^# HELP (${name}) (.*)$`).exec(line);
    if (match) continue;
    match = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (match) {
      assert.ok(!types.has(match[1]), `TYPE given twice, ${where}`);
      types.set(match[1], match[2]);
      continue;
    }
    assert.ok(!line.startsWith("#"), `unknown comment, ${where}`);
    match = new RegExp(`^(${name})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`).exec(line);
    assert.ok(match, `not a sample, ${where}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? "";
    let at = 0;
    while (at < body.length) {
      labelRe.lastIndex = at;
      const label = labelRe.exec(body);
      assert.ok(label, `bad label set, ${where}`);
      labels[label[1]] = label[2].replace(/\\(["\\n])/g, (_, c) => (c === "n" ? "\n" : c));
      at = labelRe.lastIndex;
      if (body[at] === ",") at++;
    }
    const raw = match[3];
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    assert.ok(raw === "NaN" || !Number.isNaN(value), `bad value, ${where}`);
    const family = types.has(match[1]) ? match[1] : match[1].replace(/_(bucket|sum|count)$/, "");
    assert.ok(types.has(family), `sample before its TYPE, ${where}`);
    samples.push({ name: match[1], labels, value });
  }
  return { types, samples };
}

/** The value of the sample with exactly these labels, or `undefined`. */
export function valueOf(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return exposition.samples.find((s) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v) &&
    Object.keys(s.labels).length === Object.keys(labels).length
  )?.value;
}
