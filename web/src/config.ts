// Runtime configuration: config.json beside index.html, written at deploy or serve time, so one
// build serves every deployment. The API key the user types in Settings wins over the default.

export interface AppConfig {
  apiUrl: string;
  apiKey?: string | null;
}

const KEY_STORAGE = "roomcraft.apiKey";
const DEV_API_URL = "http://127.0.0.1:8787";

export class ConfigError extends Error {}

export function parseConfig(raw: unknown): AppConfig {
  if (!raw || typeof raw !== "object") throw new ConfigError("config.json is not a JSON object");
  const { apiUrl, apiKey } = raw as Record<string, unknown>;
  if (typeof apiUrl !== "string" || !/^https?:\/\//.test(apiUrl)) {
    throw new ConfigError('config.json needs "apiUrl": the API\'s http(s) base URL');
  }
  if (apiKey !== undefined && apiKey !== null && typeof apiKey !== "string") {
    throw new ConfigError('config.json "apiKey" must be a string when present');
  }
  return { apiUrl: apiUrl.replace(/\/+$/, ""), apiKey: apiKey || null };
}

export async function loadConfig(): Promise<AppConfig> {
  let response: Response;
  try {
    response = await fetch("config.json", { cache: "no-store" });
  } catch {
    response = new Response(null, { status: 599 });
  }
  if (!response.ok) {
    // `npm run dev` has no config.json: talk to `roomcraft dev` on its default port.
    if (import.meta.env.DEV) return { apiUrl: import.meta.env.VITE_API_URL ?? DEV_API_URL, apiKey: null };
    throw new ConfigError(`config.json could not be loaded (HTTP ${response.status})`);
  }
  return parseConfig(await response.json());
}

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null; // storage disabled: keys then live only in config.json
  }
}

export class KeyStore {
  constructor(private readonly fallback: string | null) {}

  /** The key to send: the user's own if saved, else the deployment's default, else none. */
  current(): string | null {
    return this.saved() ?? this.fallback;
  }

  saved(): string | null {
    return storage()?.getItem(KEY_STORAGE) || null;
  }

  get hasDefault(): boolean {
    return Boolean(this.fallback);
  }

  save(key: string): void {
    const trimmed = key.trim();
    if (trimmed) storage()?.setItem(KEY_STORAGE, trimmed);
    else this.clear();
  }

  clear(): void {
    storage()?.removeItem(KEY_STORAGE);
  }
}
