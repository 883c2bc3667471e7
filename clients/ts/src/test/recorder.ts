/**
 * A fetch wrapper for the session tests, in Node.js and in the browser page alike: it counts
 * answers by status and by Error code, and records when each refresh was on the wire, so that a
 * test can prove there was never more than one at a time and never a `token_reused`.
 */

export interface Tally {
  /** Answers by HTTP status ("0" for a request that got none). */
  statuses: Record<string, number>;
  /** Error codes of the answers that had one. */
  codes: Record<string, number>;
  /** Each refresh request: when it was sent and answered (ms since the epoch), and its status. */
  refreshes: { start: number; end: number; status: number }[];
  /** The most refresh requests that were in flight at once through this fetch. */
  maxRefreshesInFlight: number;
}

const now = () => performance.timeOrigin + performance.now();

/** How long each scenario calls the service: three or more lifetimes of its 2 s access tokens. */
export const RUN_MS = 6_000;
// iat and exp are whole seconds, so a 2 s token has 1 to 2 s left when it arrives, and is
// refreshed a third of its life early: one refresh every 0.33 to 1.33 s, however many callers
// and tabs there are. Without single-flight and the lock there would be one per caller.
export const MIN_REFRESHES = 3;
export const MAX_REFRESHES = 20;

export function recordingFetch(inner: typeof fetch = globalThis.fetch.bind(globalThis)) {
  const tally: Tally = { statuses: {}, codes: {}, refreshes: [], maxRefreshesInFlight: 0 };
  let inFlight = 0;
  const count = (m: Record<string, number>, k: string) => void (m[k] = (m[k] ?? 0) + 1);

  const wrapped = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const isRefresh = new URL(request.url).pathname === "/auth/token/refresh/";
    const start = now();
    if (isRefresh) tally.maxRefreshesInFlight = Math.max(tally.maxRefreshesInFlight, ++inFlight);
    let response: Response | undefined;
    try {
      response = await inner(request);
      return response;
    } finally {
      const status = response?.status ?? 0;
      if (isRefresh) {
        inFlight--;
        tally.refreshes.push({ start, end: now(), status });
      }
      count(tally.statuses, String(status));
      if (response && status >= 400) {
        try {
          const body: unknown = await response.clone().json();
          if (typeof body === "object" && body !== null && "code" in body && typeof body.code === "string") {
            count(tally.codes, body.code);
          }
        } catch {
          count(tally.codes, "(not JSON)");
        }
      }
    }
  };
  return { fetch: wrapped as typeof fetch, tally };
}

/** Pairs of refreshes, from any of the tallies, whose time on the wire overlapped. */
export function overlappingRefreshes(...tallies: Tally[]): number {
  const all = tallies.flatMap((t) => t.refreshes).sort((a, b) => a.start - b.start);
  let overlaps = 0;
  for (let i = 1; i < all.length; i++) {
    const prev = all[i - 1];
    const cur = all[i];
    if (prev && cur && cur.start < prev.end) overlaps++;
  }
  return overlaps;
}

/** Runs `workers` loops for `ms` milliseconds, each calling `call` with a short random pause. */
export async function hammer(workers: number, ms: number, call: () => Promise<number>): Promise<Record<string, number>> {
  const deadline = Date.now() + ms;
  const statuses: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (Date.now() < deadline) {
        let status: string;
        try {
          status = String(await call());
        } catch (e) {
          status = `threw ${e instanceof Error ? e.name : String(e)}`;
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
      }
    }),
  );
  return statuses;
}
