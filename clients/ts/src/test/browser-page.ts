/**
 * The page of the Chromium session test (session.browser.test.ts): it loads the compiled
 * session helper as an ES module (openapi-fetch through an import map, no bundler, no CDN) and
 * gives the test a small API on `window.sessionTest`. Every tab of the test opens this page on
 * one origin, so the tabs share localStorage, Web Locks, BroadcastChannel and the cookie jar.
 */
import { broadcastChannelLock, createAuthSession, type AuthSession, type TokenTransport } from "../session.js";
import { hammer, recordingFetch, type Tally } from "./recorder.js";

export interface SessionTestPage {
  /** Creates this tab's session: `lock` "default" (Web Locks here) or "broadcast" (the fallback). */
  start(baseUrl: string, transport: TokenTransport, lock: "default" | "broadcast"): void;
  login(email: string, password: string): Promise<void>;
  resume(): Promise<boolean>;
  /** Calls GET /auth/me/ from `workers` loops for `ms`; answers by final status. */
  hammer(workers: number, ms: number): Promise<Record<string, number>>;
  logout(): Promise<void>;
  /** The code of the SessionEndedError accessToken() rejects with, or "" if it resolves. */
  accessTokenError(): Promise<string>;
  tally(): Tally;
  /** What the page's scripts can see: the stored session and document.cookie. */
  visible(): { stored: string | null; cookies: string; webLocks: boolean };
}

declare global {
  interface Window {
    sessionTest: SessionTestPage;
  }
}

let session: AuthSession | undefined;
let recorder = recordingFetch();

function current(): AuthSession {
  if (!session) throw new Error("start() first");
  return session;
}

window.sessionTest = {
  start(baseUrl, transport, lock) {
    recorder = recordingFetch();
    session = createAuthSession({
      baseUrl,
      storage: localStorage,
      transport,
      fetch: recorder.fetch,
      ...(lock === "broadcast" ? { lock: broadcastChannelLock() } : {}),
    });
  },
  login: (email, password) => current().login(email, password),
  resume: () => current().resume(),
  hammer: (workers, ms) => hammer(workers, ms, async () => (await current().api.GET("/auth/me/")).response.status),
  logout: () => current().logout(),
  async accessTokenError() {
    try {
      await current().accessToken();
      return "";
    } catch (e) {
      return e instanceof Error && "code" in e ? String(e.code) : String(e);
    }
  },
  tally: () => recorder.tally,
  visible: () => ({
    stored: localStorage.getItem("auth-service.session"),
    cookies: document.cookie,
    webLocks: typeof navigator.locks?.request === "function",
  }),
};
document.title = "ready";
