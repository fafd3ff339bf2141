/**
 * What the queue tests share: a fake run result, a log of queue events to wait
 * on, gates that hold a fake hook, and a harness over a real store in a temp dir.
 *
 * @module
 */

import {
  createQueue,
  type HookRunner,
  type HookRunResult,
  type Queue,
  type QueueEvent,
  type QueueOptions,
} from "../../lib/dispatch/mod.ts";
import {
  type ClaimedDelivery,
  type NewDelivery,
  openStore,
  type Store,
  type StoreOptions,
} from "../../lib/store/mod.ts";

/**
 * A run result: a quick success unless `overrides` say otherwise.
 *
 * @param overrides fields to replace
 * @returns the result
 */
export function outcome(overrides: Partial<HookRunResult> = {}): HookRunResult {
  const now = Date.now();
  return {
    startedAt: now,
    endedAt: now,
    durationMs: 1,
    exitCode: 0,
    signal: null,
    success: true,
    timedOut: false,
    aborted: false,
    stdout: "",
    stderr: "",
    stdoutTruncated: false,
    stderrTruncated: false,
    ...overrides,
  };
}

/**
 * A failed run.
 *
 * @param exitCode the hook's exit code
 * @returns the result
 */
export function failure(exitCode = 1): HookRunResult {
  return outcome({ exitCode, success: false, stderr: "failed" });
}

/** Records queue events and lets a test wait for one. */
export class EventLog {
  readonly events: QueueEvent[] = [];
  #waiters: { match: (e: QueueEvent) => boolean; resolve: (e: QueueEvent) => void }[] = [];

  push = (event: QueueEvent): void => {
    this.events.push(event);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  /** The first event, past or future, that matches; fails the test after 5 s rather than hang. */
  async waitFor<T extends QueueEvent>(match: (e: QueueEvent) => e is T): Promise<T>;
  async waitFor(match: (e: QueueEvent) => boolean): Promise<QueueEvent>;
  async waitFor(match: (e: QueueEvent) => boolean): Promise<QueueEvent> {
    const past = this.events.find(match);
    if (past) return past;
    const { promise, resolve } = Promise.withResolvers<QueueEvent>();
    this.#waiters.push({ match, resolve });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`No matching event; saw ${JSON.stringify(this.events)}`)),
        5000,
      );
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  ended(id: string, state?: string): Promise<Extract<QueueEvent, { type: "run-end" }>> {
    return this.waitFor((e): e is Extract<QueueEvent, { type: "run-end" }> =>
      e.type === "run-end" && e.id === id && (state === undefined || e.state === state)
    );
  }

  started(id: string): Promise<QueueEvent> {
    return this.waitFor((e) => e.type === "run-start" && e.id === id);
  }
}

/** A gate a fake hook waits at until the test opens it. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { wait: () => promise, open: () => resolve() };
}

/**
 * A runner whose first run waits for `first` to open, so that it holds its
 * slot; every run's delivery id goes into `ran`, in start order.
 */
export function firstRunWaits(): {
  first: ReturnType<typeof gate>;
  ran: string[];
  run: HookRunner;
} {
  const first = gate();
  const ran: string[] = [];
  async function run(_command: string, options: { env: Record<string, string> }) {
    ran.push(options.env.HOOKD_DELIVERY_ID);
    if (ran.length === 1) await first.wait();
    return outcome();
  }
  return { first, ran, run };
}

/**
 * A queue's `plan` that runs the stored hook with the stored time limit and
 * `env(delivery)`: what the configuration says is `planRun`'s concern, tested
 * on its own.
 */
export function planWith(
  env: (delivery: ClaimedDelivery) => Record<string, string>,
): QueueOptions["plan"] {
  return (delivery) => ({
    command: delivery.hook,
    timeoutMs: delivery.timeoutMs,
    env: env(delivery),
  });
}

export interface Harness extends AsyncDisposable {
  /** The store the queue uses, with its synchronous operations, for the test to inspect. */
  store: Store;
  queue: Queue;
  events: EventLog;
  dir: string;
}

export async function harness(
  options: Partial<QueueOptions> & {
    storeOptions?: StoreOptions;
    start?: boolean;
  },
): Promise<Harness> {
  const dir = await Deno.makeTempDir({ prefix: "hookd_queue_" });
  const store = openStore(`${dir}/hookd.db`, options.storeOptions);
  const events = new EventLog();
  const queue = createQueue(store, {
    run: () => Promise.resolve(outcome()),
    plan: planWith((d) => ({ HOOKD_DELIVERY_ID: d.id })),
    maxConcurrent: 4,
    endpoints: new Map([["deploy", { concurrency: 1, retries: 0, onBusy: "queue" }]]),
    payloadDir: dir,
    purgeIntervalMs: 0,
    onEvent: events.push,
    ...options,
  });
  if (options.start !== false) await queue.start();
  return {
    store,
    queue,
    events,
    dir,
    async [Symbol.asyncDispose]() {
      await queue.close({ timeoutMs: 1000 });
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

export async function insertAll(h: Harness, deliveries: NewDelivery[]): Promise<string[]> {
  const results = await Promise.all(deliveries.map((d) => h.store.insert(d)));
  h.queue.notify();
  return results.map((r) => r.id);
}
