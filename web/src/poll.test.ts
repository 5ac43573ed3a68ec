import { describe, expect, it } from "vitest";
import { ApiError } from "./api";
import { DEFAULT_BACKOFF, nextDelay, pollDesign } from "./poll";
import type { Design, DesignStatus } from "./types";

const design = (status: DesignStatus, eta: string | null = null): Design =>
  ({ id: "dsn_1", status, progress: 0.5, eta, outputs: [] }) as unknown as Design;

describe("nextDelay", () => {
  it("grows by the factor up to the cap", () => {
    let delay = DEFAULT_BACKOFF.initialMs;
    const seen: number[] = [];
    for (let i = 0; i < 8; i += 1) {
      delay = nextDelay(delay, false, null);
      seen.push(delay);
    }
    expect(seen[0]).toBe(800);
    expect(seen.every((d, i) => i === 0 || d >= seen[i - 1])).toBe(true);
    expect(Math.max(...seen)).toBe(DEFAULT_BACKOFF.maxMs);
  });

  it("starts again when the status changes", () => {
    expect(nextDelay(5000, true, null)).toBe(DEFAULT_BACKOFF.initialMs);
  });

  it("does not wait much past a known ETA, nor less than the first delay", () => {
    expect(nextDelay(4000, false, 1200)).toBe(1200);
    expect(nextDelay(4000, false, 100)).toBe(DEFAULT_BACKOFF.initialMs);
    expect(nextDelay(1000, false, 60_000)).toBe(1600);
  });
});

describe("pollDesign", () => {
  const noSleep = async () => undefined;

  it("stops at the first terminal status and reports every response", async () => {
    const answers = [design("queued"), design("generating"), design("generating"), design("succeeded"), design("succeeded")];
    const waits: number[] = [];
    const updates: string[] = [];
    const final = await pollDesign(async () => answers.shift()!, (d) => updates.push(d.status), {
      sleep: async (ms) => void waits.push(ms),
    });
    expect(final.status).toBe("succeeded");
    expect(updates).toEqual(["queued", "generating", "generating", "succeeded"]);
    expect(answers).toHaveLength(1); // not asked again after the terminal status
    expect(waits).toEqual([500, 500, 800]);
  });

  it.each(["failed", "canceled"] as const)("treats %s as terminal", async (status) => {
    let calls = 0;
    const final = await pollDesign(async () => (calls++, design(status)), () => undefined, { sleep: noSleep });
    expect(final.status).toBe(status);
    expect(calls).toBe(1);
  });

  it("retries transient failures with back-off, then gives up", async () => {
    let calls = 0;
    const retries: number[] = [];
    const flaky = async () => {
      calls += 1;
      if (calls <= 2) throw new ApiError(503, "service_unavailable", "busy");
      return design("succeeded");
    };
    const final = await pollDesign(flaky, () => undefined, { sleep: noSleep, onRetry: (_e, n) => retries.push(n) });
    expect(final.status).toBe("succeeded");
    expect(retries).toEqual([1, 2]);

    const down = async () => {
      throw new ApiError(0, "network_error", "offline");
    };
    await expect(pollDesign(down, () => undefined, { sleep: noSleep })).rejects.toMatchObject({ code: "network_error" });
  });

  it("does not retry a client error", async () => {
    let calls = 0;
    const missing = async () => {
      calls += 1;
      throw new ApiError(404, "design_not_found", "no such design");
    };
    await expect(pollDesign(missing, () => undefined, { sleep: noSleep })).rejects.toMatchObject({ code: "design_not_found" });
    expect(calls).toBe(1);
  });

  it("ends when aborted", async () => {
    const controller = new AbortController();
    const polling = pollDesign(async () => design("queued"), () => controller.abort(), { signal: controller.signal });
    await expect(polling).rejects.toMatchObject({ name: "AbortError" });
  });
});
