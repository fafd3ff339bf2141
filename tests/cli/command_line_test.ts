/**
 * Tests for the command line: which commands and options hookd accepts, and
 * one clear line for everything else.
 *
 * @module
 */

import assert from "node:assert/strict";
import { COMMANDS, parseCommandLine, USAGE } from "../../lib/cli/command_line.ts";

/** The error `parseCommandLine` throws for `args`, checked to be one line. */
function refusal(args: string[]): string {
  try {
    parseCommandLine(args);
  } catch (error) {
    assert.ok(error instanceof Error);
    assert.doesNotMatch(error.message, /\n/, "one line");
    assert.match(error.message, /run "hookd help"$/);
    return error.message;
  }
  assert.fail(`parseCommandLine(${JSON.stringify(args)}) accepted it`);
}

Deno.test("parseCommandLine() reads each command", async (t) => {
  await t.step("serve and check take --env-file, in both spellings", () => {
    assert.deepEqual(parseCommandLine(["serve", "--env-file", "/etc/hookd/hookd.env"]), {
      command: "serve",
      args: [],
      envFile: "/etc/hookd/hookd.env",
      endpoint: undefined,
      state: undefined,
      since: undefined,
      limit: undefined,
      event: undefined,
      outcome: undefined,
      lines: undefined,
      follow: false,
      json: false,
    });
    assert.equal(parseCommandLine(["check", "--env-file=hookd.env"]).envFile, "hookd.env");
    assert.equal(parseCommandLine(["--env-file", "a.env", "check"]).command, "check");
  });

  await t.step("tail takes --endpoint, --outcome, -n and --json; show takes --follow", () => {
    const tail = parseCommandLine(["tail", "--outcome", "failed", "-n", "5", "--json"]);
    assert.deepEqual([tail.command, tail.outcome, tail.lines, tail.json], [
      "tail",
      "failed",
      "5",
      true,
    ]);
    assert.equal(parseCommandLine(["show", "01JH", "--follow"]).follow, true);
    assert.equal(parseCommandLine(["show", "01JH", "-f"]).follow, true);
    assert.throws(() => parseCommandLine(["tail", "extra"]), /Wrong number of arguments for tail/);
  });

  await t.step("without --env-file there is no env file", () => {
    const cli = parseCommandLine(["serve"]);
    assert.equal(cli.command, "serve");
    assert.equal(cli.envFile, undefined);
  });

  await t.step("deliveries takes its filters", () => {
    const cli = parseCommandLine([
      "deliveries",
      "--endpoint",
      "github",
      "--state",
      "failed",
      "--since",
      "1h",
      "--limit",
      "20",
      "--json",
    ]);
    assert.equal(cli.command, "deliveries");
    assert.equal(cli.endpoint, "github");
    assert.equal(cli.state, "failed");
    assert.equal(cli.since, "1h");
    assert.equal(cli.limit, "20");
    assert.equal(cli.json, true);
  });

  await t.step("show takes one id, replay any number", () => {
    assert.deepEqual(parseCommandLine(["show", "abc"]).args, ["abc"]);
    assert.deepEqual(parseCommandLine(["replay"]).args, []);
    assert.deepEqual(parseCommandLine(["replay", "a", "b", "c"]).args, ["a", "b", "c"]);
  });

  await t.step("sign takes a file, send a URL and a file", () => {
    const sign = parseCommandLine(["sign", "--endpoint", "github", "--event", "push", "body.json"]);
    assert.equal(sign.command, "sign");
    assert.equal(sign.endpoint, "github");
    assert.equal(sign.event, "push");
    assert.deepEqual(sign.args, ["body.json"]);
    const send = parseCommandLine([
      "send",
      "http://127.0.0.1:9000/hooks/github",
      "--endpoint",
      "github",
      "body.json",
    ]);
    assert.deepEqual(send.args, ["http://127.0.0.1:9000/hooks/github", "body.json"]);
  });

  await t.step("help and version, as commands and as flags", () => {
    assert.equal(parseCommandLine([]).command, "help");
    assert.equal(parseCommandLine(["help"]).command, "help");
    assert.equal(parseCommandLine(["--help"]).command, "help");
    assert.equal(parseCommandLine(["-h"]).command, "help");
    assert.equal(parseCommandLine(["serve", "--help"]).command, "help");
    assert.equal(parseCommandLine(["version"]).command, "version");
    assert.equal(parseCommandLine(["--version"]).command, "version");
  });

  await t.step("a value that looks like a command is still a value", () => {
    assert.equal(parseCommandLine(["check", "--env-file", "serve"]).envFile, "serve");
  });
});

Deno.test("parseCommandLine() refuses what it does not know, in one line", async (t) => {
  await t.step("an unknown command", () => {
    assert.equal(refusal(["start"]), 'Unknown command: start; run "hookd help"');
  });

  await t.step("an unknown option", () => {
    assert.equal(refusal(["serve", "--port", "9000"]), `Unknown option '--port'; run "hookd help"`);
    assert.match(refusal(["-e"]), /^Unknown option '-e'/);
  });

  await t.step("an option without its value", () => {
    assert.match(refusal(["check", "--env-file"]), /^Option '--env-file <value>' argument missing/);
    assert.match(refusal(["deliveries", "--endpoint", "--json"]), /'--endpoint'/);
  });

  await t.step("a value given to a flag", () => {
    assert.match(refusal(["deliveries", "--json=yes"]), /'--json' does not take an argument/);
  });

  await t.step("the wrong number of arguments", () => {
    const cases = [
      ["serve", "extra"],
      ["check", "extra"],
      ["show"],
      ["show", "a", "b"],
      ["sign"],
      ["sign", "a", "b"],
      ["send", "http://x/"],
      ["deliveries", "extra"],
      ["version", "extra"],
    ];
    for (const args of cases) {
      assert.equal(refusal(args), `Wrong number of arguments for ${args[0]}; run "hookd help"`);
    }
  });
});

Deno.test("USAGE mentions every command and --env-file", () => {
  for (const command of COMMANDS) {
    assert.match(USAGE, new RegExp(`\\bhookd ${command}\\b`), command);
  }
  assert.match(USAGE, /--env-file PATH/);
});
