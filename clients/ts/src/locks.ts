/**
 * Cross-tab locks for the session helper (session.ts): one refresh at a time across every tab of
 * an origin, so that no tab presents a refresh token another tab has just retired.
 *
 * A lock alone is not enough: a tab's view of localStorage lags behind another tab's write
 * (Chromium hands the write to other tabs asynchronously, and the lock can change hands first).
 * So the two cross-tab locks also keep a ledger: the holder that stores a new generation of a
 * session publishes it on the lock before letting go, and the next holder reads the ledger and
 * waits until its storage shows that generation. The lock's own machinery carries the ledger (Web
 * Locks' held-lock list, the BroadcastChannel's release message), so it reaches the next holder no
 * later than the lock does.
 *
 * - `webLocksLock()`: the Web Locks API (`navigator.locks`), exclusive across the tabs and workers
 *   of an origin and released by the browser when a tab dies. Every current browser has it.
 * - `broadcastChannelLock()`: where Web Locks is missing (older browsers, Node.js before 24), a
 *   best-effort mutex over `BroadcastChannel`: claim, wait a moment for a competing claim, lowest
 *   claim wins. Messages between tabs arrive within milliseconds, far inside the settle time. If
 *   two tabs ever did refresh at once, they would present the same token within the server's grace
 *   interval and receive the same pair; the service marks that pair exposed, so a second such
 *   collision before the next rotation would end the session.
 * - `processLock()`: one at a time within this JavaScript realm only.
 */

/** Runs `fn` while holding the lock called `name`, exclusively among everyone sharing the lock. */
export interface SessionLock {
  run<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Called by the holder of `name` once it has stored generation `gen` of session `sid`, before it
   * lets go. Optional: a lock whose users share one coherent storage (one realm) needs no ledger.
   */
  publish?(name: string, sid: string, gen: number): Promise<void>;
  /** The newest generation of session `sid` published under `name`, as far as the lock knows. */
  latest?(name: string, sid: string): Promise<number | undefined>;
}

/** A ledger entry: session `sid` has been stored at generation `gen`. */
interface Generation {
  sid: string;
  gen: number;
}

/** The Web Locks API, or undefined where this realm lacks it. */
function webLocks(): LockManager | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManager } }).navigator;
  return typeof nav?.locks?.request === "function" ? nav.locks : undefined;
}

/** The best lock this realm has: Web Locks, else BroadcastChannel, else this realm only. */
export function defaultLock(): SessionLock {
  if (webLocks()) return webLocksLock();
  if (typeof BroadcastChannel === "function") return broadcastChannelLock();
  return processLock();
}

/**
 * The Web Locks API (`navigator.locks.request(name, { mode: "exclusive" }, fn)`). The ledger is a
 * shared lock per publication, named `<name>#<sid>#<gen>`, that the publishing realm holds until
 * it publishes again (or dies); `latest` finds the highest in `navigator.locks.query()`. Both go
 * through the browser's one lock manager, so a holder's marker is there before its lock is free.
 */
export function webLocksLock(locks: LockManager | undefined = webLocks()): SessionLock {
  if (!locks) throw new Error("webLocksLock: this environment has no navigator.locks");
  const lockManager = locks;
  /** Lets go of this realm's marker, per lock name. */
  const markers = new Map<string, () => void>();
  return {
    run: <T>(name: string, fn: () => Promise<T>) => lockManager.request(name, { mode: "exclusive" }, fn) as Promise<T>,
    async publish(name, sid, gen) {
      let letGo = () => {};
      const held = new Promise<void>((resolve) => (letGo = resolve));
      await new Promise<void>((granted) => {
        lockManager
          .request(`${name}#${sid}#${gen}`, { mode: "shared" }, () => {
            granted();
            return held;
          })
          .catch(() => granted()); // no marker: the next holder reads its storage as it is
      });
      markers.get(name)?.();
      markers.set(name, letGo);
    },
    async latest(name, sid) {
      const prefix = `${name}#${sid}#`;
      let newest: number | undefined;
      for (const l of (await lockManager.query()).held ?? []) {
        if (!l.name?.startsWith(prefix)) continue;
        const gen = Number(l.name.slice(prefix.length));
        if (Number.isSafeInteger(gen) && (newest === undefined || gen > newest)) newest = gen;
      }
      return newest;
    },
  };
}

/** A lock within this realm: callers run one after another, in order. */
export function processLock(): SessionLock {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const result = previous.then(fn, fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(name, tail);
      void tail.then(() => {
        if (tails.get(name) === tail) tails.delete(name);
      });
      return result;
    },
  };
}

export interface BroadcastChannelLockOptions {
  /** How long a claim waits for a competing one before it holds the lock (default 40 ms). */
  settleMs?: number;
  /** How long others wait for a holder that never releases, a closed tab (default 15 s). */
  leaseMs?: number;
}

type LockMessage =
  | { type: "claim"; id: string; ts: number }
  | { type: "held"; id: string; leaseMs: number; ledger?: Generation }
  | { type: "release"; id: string; ledger?: Generation }
  | { type: "withdraw"; id: string };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A best-effort mutex over BroadcastChannel (see the file comment). Each lock name has its own
 * channel, opened on first use and closed with `close()`.
 */
export function broadcastChannelLock(options: BroadcastChannelLockOptions = {}): SessionLock & { close(): void } {
  const settleMs = options.settleMs ?? 40;
  const leaseMs = options.leaseMs ?? 15_000;
  const mutexes = new Map<string, BroadcastMutex>();
  const local = processLock(); // one claim at a time from this realm
  return {
    run<T>(name: string, fn: () => Promise<T>): Promise<T> {
      let m = mutexes.get(name);
      if (!m) mutexes.set(name, (m = new BroadcastMutex(`auth-session-lock:${name}`, settleMs, leaseMs)));
      const mutex = m;
      return local.run(name, async () => {
        await mutex.acquire();
        try {
          return await fn();
        } finally {
          mutex.release();
        }
      });
    },
    async publish(name, sid, gen) {
      mutexes.get(name)?.publish({ sid, gen });
    },
    async latest(name, sid) {
      return mutexes.get(name)?.latest(sid);
    },
    close() {
      for (const m of mutexes.values()) m.close();
      mutexes.clear();
    },
  };
}

class BroadcastMutex {
  private readonly id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  private readonly channel: BroadcastChannel;
  /** Other realms holding the lock, with the local time their lease ends. */
  private readonly holders = new Map<string, number>();
  /** Other realms' open claims: their timestamp and when this realm heard of them. */
  private readonly claims = new Map<string, { ts: number; heard: number }>();
  private holding = false;
  /** This realm's open claim, while it waits to see whether another is earlier. */
  private claiming: number | undefined;
  private wake: (() => void) | undefined;
  /** The newest generation per session this realm has published or heard of. */
  private readonly ledger = new Map<string, number>();
  /** What this realm published last, sent with its held and release messages. */
  private published: Generation | undefined;

  constructor(
    name: string,
    private readonly settleMs: number,
    private readonly leaseMs: number,
  ) {
    this.channel = new BroadcastChannel(name);
    this.channel.onmessage = (e: MessageEvent<LockMessage>) => this.receive(e.data);
    // Node.js: an idle channel must not keep the process alive.
    (this.channel as unknown as { unref?: () => void }).unref?.();
  }

  private receive(m: LockMessage): void {
    const now = Date.now();
    switch (m.type) {
      case "claim":
        this.claims.set(m.id, { ts: m.ts, heard: now });
        // A holder answers every claim, and so does an earlier claim, so that a realm that
        // opened its channel after they were announced (a new tab) still backs off.
        if (this.holding) this.post({ type: "held", id: this.id, leaseMs: this.leaseMs });
        else if (this.claiming !== undefined && (this.claiming < m.ts || (this.claiming === m.ts && this.id < m.id))) {
          this.post({ type: "claim", id: this.id, ts: this.claiming });
        }
        break;
      case "held":
        this.claims.delete(m.id);
        this.holders.set(m.id, now + m.leaseMs);
        this.record(m.ledger);
        break;
      case "release":
        this.record(m.ledger);
      // falls through
      case "withdraw":
        this.claims.delete(m.id);
        this.holders.delete(m.id);
        this.wake?.();
        break;
    }
  }

  private record(g: Generation | undefined): void {
    if (g && g.gen > (this.ledger.get(g.sid) ?? -Infinity)) this.ledger.set(g.sid, g.gen);
  }

  publish(g: Generation): void {
    this.published = g;
    this.record(g);
  }

  latest(sid: string): number | undefined {
    return this.ledger.get(sid);
  }

  private post(m: LockMessage): void {
    this.channel.postMessage(m);
  }

  /** Others' live holds and recent claims (a claim not settled within a few settle times is a closed tab's). */
  private contested(mine?: number): boolean {
    const now = Date.now();
    for (const [id, until] of this.holders) {
      if (until <= now) this.holders.delete(id);
      else return true;
    }
    if (mine === undefined) return false;
    for (const [id, c] of this.claims) {
      if (now - c.heard > 4 * this.settleMs) this.claims.delete(id);
      else if (c.ts < mine || (c.ts === mine && id < this.id)) return true;
    }
    return false;
  }

  async acquire(): Promise<void> {
    for (;;) {
      while (this.contested()) {
        const next = Math.min(...this.holders.values()) - Date.now();
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, Math.max(1, Math.min(next, this.leaseMs)));
        });
        this.wake = undefined;
      }
      const ts = Date.now();
      this.claiming = ts;
      this.post({ type: "claim", id: this.id, ts });
      await sleep(this.settleMs);
      // One more turn of the event loop: after a pause (a busy machine, a throttled tab) the
      // settle timers of two realms can fire before either has handled the other's claim, which
      // waits as a message; the messages that had arrived are handled first.
      await sleep(1);
      this.claiming = undefined;
      if (!this.contested(ts)) {
        this.holding = true;
        this.post({ type: "held", id: this.id, leaseMs: this.leaseMs, ledger: this.published });
        return;
      }
      this.post({ type: "withdraw", id: this.id });
      await sleep(Math.random() * this.settleMs);
    }
  }

  release(): void {
    this.holding = false;
    this.post({ type: "release", id: this.id, ledger: this.published });
  }

  close(): void {
    this.channel.close();
  }
}
