// The "before" picture of a design. The API does not serve the original upload back (it stays in
// the private uploads bucket), so the browser that uploaded it keeps a small copy, newest first,
// and shared links opened elsewhere show the results without the comparison.

const PREFIX = "roomcraft.before.";
const INDEX = "roomcraft.before.index";
export const MAX_KEPT = 8;

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

function defaultStore(): KeyValueStore | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export class BeforeImages {
  private readonly memory = new Map<string, string>();

  constructor(private readonly store: KeyValueStore | null = defaultStore()) {}

  private index(): string[] {
    try {
      const parsed: unknown = JSON.parse(this.store?.getItem(INDEX) ?? "[]");
      return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === "string") : [];
    } catch {
      return [];
    }
  }

  get(designId: string): string | null {
    return this.memory.get(designId) ?? this.store?.getItem(PREFIX + designId) ?? null;
  }

  /** Keep `dataUrl` for `designId`; drop the oldest beyond MAX_KEPT or when storage is full. */
  put(designId: string, dataUrl: string): void {
    this.memory.set(designId, dataUrl);
    if (!this.store) return;
    let ids = [designId, ...this.index().filter((id) => id !== designId)];
    for (const dropped of ids.slice(MAX_KEPT)) this.store.removeItem(PREFIX + dropped);
    ids = ids.slice(0, MAX_KEPT);
    for (;;) {
      try {
        this.store.setItem(PREFIX + designId, dataUrl);
        break;
      } catch {
        const oldest = ids.length > 1 ? ids.pop() : undefined;
        if (!oldest) {
          ids = ids.filter((id) => id !== designId); // does not fit at all: memory only
          break;
        }
        this.store.removeItem(PREFIX + oldest);
      }
    }
    try {
      this.store.setItem(INDEX, JSON.stringify(ids));
    } catch {
      /* the index is a few bytes; if even that fails, entries are simply not evicted in order */
    }
  }
}
