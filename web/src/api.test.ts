import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, errorFrom, RoomcraftApi } from "./api";

afterEach(() => vi.unstubAllGlobals());

describe("errorFrom", () => {
  it("keeps the API's stable code, message and request id", () => {
    const error = errorFrom(422, { error: { code: "unknown_style", message: "unknown style 'x'", request_id: "req_1", details: { valid: [] } } });
    expect(error).toMatchObject({ status: 422, code: "unknown_style", message: "unknown style 'x'", requestId: "req_1" });
    expect(error.isTransient).toBe(false);
  });

  it("names a bare 404 a missing route and a 5xx transient", () => {
    expect(errorFrom(404, null).isMissingRoute).toBe(true);
    expect(errorFrom(404, { error: { code: "design_not_found", message: "", request_id: "r" } }).isMissingRoute).toBe(false);
    expect(errorFrom(502, "<html>").isTransient).toBe(true);
    expect(new ApiError(429, "rate_limited", "slow down").isTransient).toBe(true);
  });
});

describe("RoomcraftApi", () => {
  function recordFetch(status = 200, body: unknown = {}) {
    const calls: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify(body), { status, headers: { "X-Request-Id": "req_h" } });
    });
    return calls;
  }

  it("sends the key as a bearer token only when there is one", async () => {
    const calls = recordFetch(200, { styles: [], room_types: [] });
    let key: string | null = null;
    const api = new RoomcraftApi("http://api.test/", () => key);
    await api.catalogue();
    key = "rc_abc";
    await api.catalogue();
    expect(calls[0].url).toBe("http://api.test/v1/styles");
    expect((calls[0].init.headers as Record<string, string>).Authorization).toBeUndefined();
    expect((calls[1].init.headers as Record<string, string>).Authorization).toBe("Bearer rc_abc");
  });

  it("posts JSON and paginates with the cursor", async () => {
    const calls = recordFetch(200, { data: [], next_cursor: null });
    const api = new RoomcraftApi("http://api.test");
    await api.designs("abc==", 12);
    await api.createDesign({ upload_id: "upl_1", room_type: "bedroom", style: "japandi" });
    expect(calls[0].url).toBe("http://api.test/v1/designs?limit=12&cursor=abc%3D%3D");
    expect(calls[1].init.method).toBe("POST");
    expect(JSON.parse(calls[1].init.body as string)).toEqual({ upload_id: "upl_1", room_type: "bedroom", style: "japandi" });
  });

  it("turns error bodies and network failures into ApiErrors", async () => {
    recordFetch(409, { error: { code: "design_not_cancelable", message: "too late", request_id: "req_9" } });
    await expect(new RoomcraftApi("http://api.test").cancelDesign("dsn_1")).rejects.toMatchObject({ code: "design_not_cancelable", status: 409 });
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(new RoomcraftApi("http://api.test").health()).rejects.toMatchObject({ code: "network_error", status: 0 });
  });
});
