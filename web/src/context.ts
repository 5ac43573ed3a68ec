import type { RoomcraftApi } from "./api";
import type { BeforeImages } from "./before";
import type { AppConfig, KeyStore } from "./config";
import type { Catalogue } from "./types";

export interface AppContext {
  config: AppConfig;
  keys: KeyStore;
  api: RoomcraftApi;
  before: BeforeImages;
  /** The style catalogue, fetched once and shared by every view. */
  catalogue(): Promise<Catalogue>;
}

/** A view draws into `main` and returns what to do when the user leaves it. */
export type View = (ctx: AppContext, main: HTMLElement, params: Record<string, string>) => (() => void) | void;

/** Look up display names in the catalogue, falling back to the id. */
export function nameOf(list: { id: string; name: string }[] | undefined, id: string): string {
  return list?.find((item) => item.id === id)?.name ?? id.replace(/_/g, " ");
}
