// A small client of Roomcraft's public HTTP API. Nothing here knows about the DOM.

import type {
  Catalogue,
  CreateDesign,
  CreateWebhookEndpoint,
  Design,
  ErrorBody,
  Health,
  Page,
  UploadSlot,
  WebhookDelivery,
  WebhookEndpoint,
} from "./types";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;

  constructor(status: number, code: string, message: string, requestId: string | null = null, details = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }

  /** The route does not exist on this deployment (a feature it does not have yet). */
  get isMissingRoute(): boolean {
    return this.status === 404 && (this.code === "route_not_found" || this.code === "http_error");
  }

  /** Worth trying again later: the network, a throttle, or the server's own trouble. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

/** Turn any failed response into an ApiError with the API's stable code when it sent one. */
export function errorFrom(status: number, body: unknown, requestId: string | null = null): ApiError {
  const error = (body as Partial<ErrorBody> | null)?.error;
  if (error && typeof error.code === "string") {
    return new ApiError(status, error.code, error.message ?? error.code, error.request_id ?? requestId, error.details ?? {});
  }
  return new ApiError(status, status === 404 ? "route_not_found" : "http_error", `HTTP ${status}`, requestId);
}

export type KeySource = () => string | null;
export type UploadProgress = (loaded: number, total: number) => void;

export class RoomcraftApi {
  readonly baseUrl: string;
  private readonly key: KeySource;

  constructor(baseUrl: string, key: KeySource = () => null) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.key = key;
  }

  private headers(json: boolean): Record<string, string> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (json) headers["Content-Type"] = "application/json";
    const key = this.key();
    if (key) headers.Authorization = `Bearer ${key}`;
    return headers;
  }

  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: this.headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, "network_error", `Could not reach the API at ${this.baseUrl}.`);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) throw errorFrom(response.status, parsed, response.headers.get("X-Request-Id"));
    return parsed as T;
  }

  health(): Promise<Health> {
    return this.request("GET", "/v1/health");
  }

  catalogue(): Promise<Catalogue> {
    return this.request("GET", "/v1/styles");
  }

  createUpload(contentType: string): Promise<UploadSlot> {
    return this.request("POST", "/v1/uploads", { content_type: contentType });
  }

  createDesign(body: CreateDesign): Promise<Design> {
    return this.request("POST", "/v1/designs", body);
  }

  design(id: string, signal?: AbortSignal): Promise<Design> {
    return this.request("GET", `/v1/designs/${encodeURIComponent(id)}`, undefined, signal);
  }

  designs(cursor: string | null, limit = 12): Promise<Page<Design>> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return this.request("GET", `/v1/designs?${query}`);
  }

  cancelDesign(id: string): Promise<Design> {
    return this.request("POST", `/v1/designs/${encodeURIComponent(id)}/cancel`);
  }

  webhookEndpoints(): Promise<Page<WebhookEndpoint>> {
    return this.request("GET", "/v1/webhook-endpoints");
  }

  createWebhookEndpoint(body: CreateWebhookEndpoint): Promise<WebhookEndpoint> {
    return this.request("POST", "/v1/webhook-endpoints", body);
  }

  testWebhookEndpoint(id: string): Promise<unknown> {
    return this.request("POST", `/v1/webhook-endpoints/${encodeURIComponent(id)}/test`, {});
  }

  webhookDeliveries(id: string, limit = 10): Promise<Page<WebhookDelivery>> {
    return this.request("GET", `/v1/webhook-endpoints/${encodeURIComponent(id)}/deliveries?limit=${limit}`);
  }
}

/**
 * POST the file straight to storage with the presigned form (every field, then `file` last).
 * XMLHttpRequest, not fetch, because only XHR reports upload progress.
 */
export function uploadToStorage(
  slot: UploadSlot,
  file: Blob,
  onProgress: UploadProgress,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(slot.fields)) form.append(name, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", slot.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve();
      } else {
        reject(new ApiError(xhr.status, "upload_failed", `Storage refused the upload (HTTP ${xhr.status}).`));
      }
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, "upload_failed", "The upload did not reach storage (network or CORS)."))
    );
    xhr.addEventListener("abort", () => reject(new DOMException("upload aborted", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
