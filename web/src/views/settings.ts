// Settings: the API key this browser sends, and the tenant's webhook endpoints (create, send a
// test event, recent deliveries). Where the deployment has no webhook routes yet (404), say so.

import { ApiError } from "../api";
import type { AppContext, View } from "../context";
import { announce, errorBox, h, replace, uid } from "../dom";
import { dateText } from "../format";
import type { WebhookDelivery, WebhookEndpoint } from "../types";

export const EVENT_TYPES = ["design.queued", "design.succeeded", "design.failed", "design.canceled", "batch.completed"];

export const settingsView: View = (ctx, main) => {
  const page = new AbortController();
  replace(
    main,
    h("h1", { tabindex: -1 }, "Settings"),
    h("div", { class: "settings-grid" }, connectionSection(ctx), webhooksSection(ctx, page.signal)),
  );
  return () => page.abort();
};

function connectionSection(ctx: AppContext): HTMLElement {
  const keyInput = h("input", {
    type: "password",
    id: "api-key",
    name: "api_key",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "rc_…",
    value: ctx.keys.saved() ?? "",
    "aria-describedby": "api-key-help",
  });
  const keyStatus = h("p", { class: "small", "aria-live": "polite" });
  const describe = () => {
    keyStatus.textContent = ctx.keys.saved()
      ? "This browser sends your saved key."
      : ctx.keys.hasDefault
        ? "No key saved: this browser sends the deployment's default key."
        : "No key saved: requests go without a key (fine until the deployment requires one).";
  };
  describe();
  const show = h("button", { type: "button", class: "button secondary small", "aria-pressed": "false" }, "Show");
  show.addEventListener("click", () => {
    const visible = keyInput.type === "password";
    keyInput.type = visible ? "text" : "password";
    show.textContent = visible ? "Hide" : "Show";
    show.setAttribute("aria-pressed", String(visible));
  });
  const form = h(
    "form",
    { class: "stack" },
    h("div", { class: "field" }, h("label", { for: "api-key" }, "API key"), h("div", { class: "inline" }, keyInput, show)),
    h("p", { id: "api-key-help", class: "muted small" }, "Sent as ", h("code", {}, "Authorization: Bearer …"), " with every request. Stored in this browser only (localStorage)."),
    h("div", { class: "inline" }, h("button", { type: "submit", class: "button primary" }, "Save key"), h("button", { type: "button", class: "button secondary", "data-action": "clear" }, "Forget key")),
    keyStatus,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.keys.save(keyInput.value);
    describe();
    announce("API key saved.");
  });
  form.querySelector('[data-action="clear"]')?.addEventListener("click", () => {
    ctx.keys.clear();
    keyInput.value = "";
    describe();
    announce("API key forgotten.");
  });

  const health = h("p", { class: "small", "aria-live": "polite" });
  const check = h("button", { type: "button", class: "button secondary" }, "Check connection");
  check.addEventListener("click", async () => {
    health.textContent = "Checking…";
    try {
      const result = await ctx.api.health();
      health.textContent = `Connected: Roomcraft ${result.version}, stage ${result.stage}, provider ${result.provider}.`;
    } catch (error) {
      health.textContent = error instanceof Error ? `Not connected: ${error.message}` : "Not connected.";
    }
  });

  return h(
    "section",
    { class: "card", "aria-labelledby": "connection-heading" },
    h("h2", { id: "connection-heading" }, "Connection"),
    h("dl", { class: "compact" }, h("dt", {}, "API"), h("dd", {}, h("code", {}, ctx.config.apiUrl))),
    form,
    h("div", { class: "inline" }, check),
    health,
  );
}

function webhooksSection(ctx: AppContext, signal: AbortSignal): HTMLElement {
  const body = h("div", { class: "stack" }, h("p", { class: "muted" }, "Loading webhook endpoints…"));
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "webhooks-heading" },
    h("h2", { id: "webhooks-heading" }, "Webhook endpoints"),
    h("p", { class: "muted small" }, "Roomcraft POSTs signed events (Standard Webhooks) to these URLs when designs change."),
    body,
  );

  async function load(): Promise<void> {
    let endpoints: WebhookEndpoint[];
    try {
      endpoints = (await ctx.api.webhookEndpoints()).data ?? [];
    } catch (error) {
      if (signal.aborted) return;
      replace(body, unavailable(error));
      return;
    }
    if (signal.aborted) return;
    const list = h("ul", { class: "endpoints", "aria-label": "Webhook endpoints" }, endpoints.map((endpoint) => endpointItem(ctx, endpoint)));
    replace(
      body,
      endpoints.length ? list : h("p", { class: "muted", "data-testid": "no-endpoints" }, "No endpoints yet."),
      createForm(ctx, (created) => {
        void load().then(() => body.prepend(secretNotice(created)));
      }),
    );
  }

  void load();
  return section;
}

function unavailable(error: unknown): HTMLElement {
  if (error instanceof ApiError && error.isMissingRoute) {
    return h(
      "div",
      { class: "notice", "data-testid": "webhooks-unavailable", role: "status" },
      h("p", {}, h("strong", {}, "Webhooks are not available on this deployment yet.")),
      h("p", { class: "small" }, "The API answered 404 for ", h("code", {}, "/v1/webhook-endpoints"), ". Designs still work; follow them here or with ", h("code", {}, "GET /v1/designs/{id}"), "."),
    );
  }
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    return errorBox("This deployment needs an API key for webhook endpoints: save one under Connection.", `Code ${error.code}`);
  }
  return errorBox("Webhook endpoints could not be loaded.", error instanceof Error ? error.message : null);
}

function secretNotice(endpoint: WebhookEndpoint): HTMLElement {
  if (!endpoint.secret) return h("div", { class: "notice", role: "status" }, h("p", {}, `Endpoint created: ${endpoint.url}`));
  return h(
    "div",
    { class: "notice notice-success", role: "status" },
    h("p", {}, h("strong", {}, "Endpoint created. "), "Copy its signing secret now: it is shown only once."),
    h("p", {}, h("code", { class: "secret", "data-testid": "webhook-secret" }, endpoint.secret)),
  );
}

function createForm(ctx: AppContext, created: (endpoint: WebhookEndpoint) => void): HTMLElement {
  const url = h("input", { type: "url", id: "webhook-url", name: "url", required: true, placeholder: "https://example.com/roomcraft/webhooks", "aria-describedby": "webhook-url-help webhook-error" });
  const description = h("input", { type: "text", id: "webhook-description", name: "description", maxlength: 200 });
  const error = h("div", { id: "webhook-error", "aria-live": "assertive" });
  const types = h(
    "fieldset",
    { class: "event-types" },
    h("legend", {}, "Events ", h("span", { class: "muted small" }, "(none ticked: all)")),
    EVENT_TYPES.map((type) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "event_types", value: type }), h("code", {}, type))),
  );
  const submit = h("button", { type: "submit", class: "button primary" }, "Add endpoint");
  const form = h(
    "form",
    { class: "stack webhook-form", novalidate: true, "aria-labelledby": "new-endpoint-heading" },
    h("h3", { id: "new-endpoint-heading" }, "Add an endpoint"),
    h("div", { class: "field" }, h("label", { for: "webhook-url" }, "URL"), url, h("p", { id: "webhook-url-help", class: "muted small" }, "https only; it must answer 2xx within 15 s.")),
    h("div", { class: "field" }, h("label", { for: "webhook-description" }, "Description ", h("span", { class: "muted" }, "(optional)")), description),
    types,
    h("div", { class: "inline" }, submit),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.replaceChildren();
    if (!url.value || !url.checkValidity()) {
      error.replaceChildren(errorBox("Enter the endpoint's full URL, starting with https://."));
      url.setAttribute("aria-invalid", "true");
      url.focus();
      return;
    }
    url.removeAttribute("aria-invalid");
    const eventTypes = [...types.querySelectorAll<HTMLInputElement>("input:checked")].map((input) => input.value);
    submit.disabled = true;
    try {
      const endpoint = await ctx.api.createWebhookEndpoint({
        url: url.value.trim(),
        ...(description.value.trim() ? { description: description.value.trim() } : {}),
        ...(eventTypes.length ? { event_types: eventTypes } : {}),
      });
      announce("Webhook endpoint created.");
      created(endpoint);
    } catch (failure) {
      submit.disabled = false;
      const detail = failure instanceof ApiError ? `Code ${failure.code}` : null;
      error.replaceChildren(errorBox(failure instanceof Error ? failure.message : "The endpoint could not be created.", detail));
    }
  });
  return form;
}

function endpointItem(ctx: AppContext, endpoint: WebhookEndpoint): HTMLElement {
  const enabled = endpoint.enabled ?? endpoint.status !== "disabled";
  const result = h("p", { class: "small", "aria-live": "polite" });
  const deliveriesId = uid("deliveries");
  const deliveries = h("div", { id: deliveriesId, hidden: true });
  const test = h("button", { type: "button", class: "button secondary small" }, "Send test event");
  const toggle = h("button", { type: "button", class: "button secondary small", "aria-expanded": "false", "aria-controls": deliveriesId }, "Recent deliveries");

  test.addEventListener("click", async () => {
    test.disabled = true;
    result.textContent = "Sending a test event…";
    try {
      await ctx.api.testWebhookEndpoint(endpoint.id);
      result.textContent = "Test event queued. Its delivery appears under Recent deliveries.";
      if (!deliveries.hidden) await showDeliveries();
    } catch (error) {
      result.textContent = error instanceof Error ? `The test event was not sent: ${error.message}` : "The test event was not sent.";
    } finally {
      test.disabled = false;
    }
  });

  async function showDeliveries(): Promise<void> {
    replace(deliveries, h("p", { class: "muted small" }, "Loading deliveries…"));
    try {
      const page = await ctx.api.webhookDeliveries(endpoint.id);
      replace(deliveries, deliveryTable(page.data ?? []));
    } catch (error) {
      replace(deliveries, errorBox("Deliveries could not be loaded.", error instanceof Error ? error.message : null));
    }
  }

  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    deliveries.hidden = !open;
    if (open) void showDeliveries();
  });

  return h(
    "li",
    { class: "endpoint", "data-endpoint-id": endpoint.id },
    h(
      "div",
      { class: "endpoint-head" },
      h("code", { class: "endpoint-url" }, endpoint.url),
      h("span", { class: `pill ${enabled ? "pill-succeeded" : "pill-failed"}` }, enabled ? "Enabled" : "Disabled"),
    ),
    endpoint.description ? h("p", { class: "small" }, endpoint.description) : null,
    h("p", { class: "muted small" }, endpoint.event_types?.length ? `Events: ${endpoint.event_types.join(", ")}` : "Events: all", endpoint.created_at ? ` · added ${dateText(endpoint.created_at)}` : ""),
    h("div", { class: "inline" }, test, toggle),
    result,
    deliveries,
  );
}

export function deliveryTable(rows: WebhookDelivery[]): HTMLElement {
  if (!rows.length) return h("p", { class: "muted small" }, "No deliveries yet.");
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "deliveries" },
      h("caption", { class: "visually-hidden" }, "Recent deliveries, newest first"),
      h("thead", {}, h("tr", {}, ["When", "Event", "Result", "HTTP", "Time"].map((title) => h("th", { scope: "col" }, title)))),
      h(
        "tbody",
        {},
        rows.map((row) => {
          const http = row.response_status ?? row.status_code ?? null;
          return h(
            "tr",
            {},
            h("td", {}, dateText(row.attempted_at ?? row.created_at)),
            h("td", {}, h("code", {}, row.event_type ?? row.type ?? "")),
            h("td", {}, row.status ?? (http !== null && http >= 200 && http < 300 ? "succeeded" : "failed")),
            h("td", {}, http === null ? "—" : String(http)),
            h("td", {}, row.latency_ms == null ? "—" : `${Math.round(row.latency_ms)} ms`),
          );
        }),
      ),
    ),
  );
}
