// Shapes of the public API's JSON (see the OpenAPI document at /docs on a running API).

export type DesignStatus =
  | "queued"
  | "preparing"
  | "generating"
  | "finalizing"
  | "succeeded"
  | "failed"
  | "canceled";

export const TERMINAL_STATUSES: ReadonlySet<DesignStatus> = new Set(["succeeded", "failed", "canceled"]);

export interface ErrorBody {
  error: { code: string; message: string; request_id: string; details?: Record<string, unknown> };
}

export interface Style {
  id: string;
  name: string;
  description: string;
  palette: string[];
}

export interface RoomType {
  id: string;
  name: string;
}

export interface Catalogue {
  styles: Style[];
  room_types: RoomType[];
}

export interface Health {
  status: string;
  version: string;
  stage: string;
  provider: string;
  time: string;
}

export interface UploadSlot {
  upload_id: string;
  url: string;
  fields: Record<string, string>;
  content_type: string;
  max_bytes: number;
  expires_at: string;
}

export interface CreateDesign {
  upload_id: string;
  room_type: string;
  style: string;
  palette?: string[];
  prompt?: string;
  variants?: number;
  seed?: number;
}

export interface ImageVariant {
  url: string;
  width: number;
  height: number;
  content_type: string;
}

export interface Output {
  index: number;
  url: string;
  thumbnail_url: string | null;
  width: number;
  height: number;
  variants: Record<string, ImageVariant>;
  blurhash: string;
  dominant_color: string;
  preview: boolean;
  /** Structure check of this output (docs/quality.md); null or absent on older designs. */
  quality?: OutputQuality | null;
}

export interface OutputQuality {
  structure_score: number;
  structure_ok: boolean;
  attempts: number;
  threshold: number;
  seed: number;
}

export interface Design {
  id: string;
  status: DesignStatus;
  progress: number;
  eta: string | null;
  origin: string;
  provider: string;
  brief: {
    room_type: string;
    style: string;
    palette: string[];
    prompt: string | null;
    variants: number;
    seed: number;
  };
  source: { upload_id: string | null; image_url: string | null; width: number | null; height: number | null };
  outputs: Output[];
  error: { code: string; message: string } | null;
  batch_id: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  provider_seconds: number | null;
  structure_ok?: boolean | null;
  regenerations?: number;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

// Webhook endpoints (issue 5), built against the documented shape; the page degrades to a
// clear message while a deployment answers 404 for these routes.
export interface WebhookEndpoint {
  id: string;
  url: string;
  description?: string | null;
  event_types?: string[] | null;
  enabled?: boolean;
  status?: string;
  created_at?: string;
  secret?: string;
}

export interface CreateWebhookEndpoint {
  url: string;
  description?: string;
  event_types?: string[];
}

export interface WebhookDelivery {
  id: string;
  webhook_id?: string;
  message_id?: string;
  event_type?: string;
  type?: string;
  status?: string;
  attempt?: number;
  response_status?: number | null;
  status_code?: number | null;
  latency_ms?: number | null;
  created_at?: string;
  attempted_at?: string;
}
