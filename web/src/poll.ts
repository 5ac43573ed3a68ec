// Polling a design until it reaches a terminal status, backing off between requests.

import { ApiError } from "./api";
import { TERMINAL_STATUSES, type Design } from "./types";

export interface BackoffOptions {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Consecutive transient failures (network, 429, 5xx) tolerated before giving up. */
  maxFailures: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, factor: 1.6, maxMs: 5000, maxFailures: 6 };

/**
 * The wait before the next poll: grows by `factor` up to `maxMs`, starts again from `initialMs`
 * when the status changes (work is moving), and never waits much past a known ETA.
 */
export function nextDelay(
  previousMs: number,
  statusChanged: boolean,
  etaMs: number | null,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  let delay = statusChanged ? options.initialMs : Math.min(previousMs * options.factor, options.maxMs);
  if (etaMs !== null && etaMs > 0 && etaMs < delay) delay = Math.max(options.initialMs, etaMs);
  return Math.round(delay);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("aborted", "AbortError"));
      },
      { once: true },
    );
  });

export interface PollOptions {
  signal?: AbortSignal;
  sleep?: Sleep;
  now?: () => number;
  backoff?: BackoffOptions;
  /** Told of every transient failure before the next try, e.g. to show "reconnecting". */
  onRetry?: (error: ApiError, attempt: number) => void;
}

/** Fetch the design until it is terminal; `onUpdate` sees every response. Returns the last one. */
export async function pollDesign(
  fetchDesign: (signal?: AbortSignal) => Promise<Design>,
  onUpdate: (design: Design) => void,
  options: PollOptions = {},
): Promise<Design> {
  const wait = options.sleep ?? sleep;
  const now = options.now ?? Date.now;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  let delay = backoff.initialMs;
  let lastStatus: string | null = null;
  let failures = 0;
  for (;;) {
    let design: Design;
    try {
      design = await fetchDesign(options.signal);
    } catch (error) {
      if (!(error instanceof ApiError) || !error.isTransient || failures >= backoff.maxFailures) throw error;
      failures += 1;
      options.onRetry?.(error, failures);
      delay = Math.min(delay * backoff.factor, backoff.maxMs);
      await wait(Math.round(delay), options.signal);
      continue;
    }
    failures = 0;
    onUpdate(design);
    if (TERMINAL_STATUSES.has(design.status)) return design;
    const changed = design.status !== lastStatus;
    lastStatus = design.status;
    const etaMs = design.eta ? Date.parse(design.eta) - now() : null;
    delay = nextDelay(delay, changed, etaMs, backoff);
    await wait(delay, options.signal);
  }
}
