import { describe, expect, it } from "vitest";
import { BeforeImages, type KeyValueStore, MAX_KEPT } from "./before";

class MemoryStore implements KeyValueStore {
  items = new Map<string, string>();
  constructor(private readonly capacity = Infinity) {}
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    const used = [...this.items].filter(([k]) => k !== key).reduce((n, [, v]) => n + v.length, 0);
    if (used + value.length > this.capacity) throw new DOMException("full", "QuotaExceededError");
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

describe("BeforeImages", () => {
  it("keeps the newest pictures and forgets the oldest", () => {
    const store = new MemoryStore();
    const before = new BeforeImages(store);
    for (let i = 0; i < MAX_KEPT + 2; i += 1) before.put(`dsn_${i}`, `data:${i}`);
    const fresh = new BeforeImages(store); // another page load
    expect(fresh.get(`dsn_${MAX_KEPT + 1}`)).toBe(`data:${MAX_KEPT + 1}`);
    expect(fresh.get("dsn_0")).toBeNull();
    expect(fresh.get("dsn_1")).toBeNull();
    expect(fresh.get("dsn_2")).toBe("data:2");
  });

  it("evicts older pictures when storage is full, and keeps in memory what never fits", () => {
    const store = new MemoryStore(200);
    const before = new BeforeImages(store);
    before.put("dsn_a", "a".repeat(80));
    before.put("dsn_b", "b".repeat(80));
    before.put("dsn_c", "c".repeat(80));
    expect(store.getItem("roomcraft.before.dsn_c")).not.toBeNull();
    expect(store.getItem("roomcraft.before.dsn_a")).toBeNull();
    before.put("dsn_huge", "h".repeat(500));
    expect(before.get("dsn_huge")).toHaveLength(500);
    expect(new BeforeImages(store).get("dsn_huge")).toBeNull();
  });

  it("works with no storage at all", () => {
    const before = new BeforeImages(null);
    before.put("dsn_1", "data:1");
    expect(before.get("dsn_1")).toBe("data:1");
  });
});
