// Before/after comparison: the original photo over the result, clipped at a position set by a
// native range input, so arrow keys, Home/End and Page Up/Down work and screen readers announce it.

import { h } from "./dom";
import type { Output } from "./types";

export function srcset(output: Output): string {
  return Object.entries(output.variants)
    .filter(([name]) => /^w\d+$/.test(name))
    .map(([, variant]) => `${variant.url} ${variant.width}w`)
    .join(", ");
}

export function resultImage(output: Output, alt: string, className = ""): HTMLImageElement {
  const image = h("img", {
    src: output.url,
    alt,
    class: className,
    width: output.width,
    height: output.height,
    sizes: "(min-width: 1100px) 760px, 100vw",
    decoding: "async",
    style: `background-color:${output.dominant_color}`,
  });
  const set = srcset(output);
  if (set) image.srcset = set;
  return image;
}

export interface Compare {
  element: HTMLElement;
  showOutput(output: Output): void;
  setPosition(percent: number): void;
}

export function createCompare(before: string, output: Output, afterAlt: (o: Output) => string): Compare {
  const figure = h("figure", { class: "compare", style: `aspect-ratio:${output.width} / ${output.height}` });
  let after = resultImage(output, afterAlt(output), "compare-after");
  const beforeImage = h("img", { src: before, alt: "Before: your original photo", class: "compare-before" });
  const range = h("input", {
    type: "range",
    min: 0,
    max: 100,
    step: 1,
    value: 50,
    class: "compare-range",
    "aria-label": "Before and after: how much of the original photo to show",
  });
  const setPosition = (percent: number) => {
    const value = Math.min(100, Math.max(0, Math.round(percent)));
    range.value = String(value);
    figure.style.setProperty("--position", `${value}%`);
    range.setAttribute("aria-valuetext", `${value}% before, ${100 - value}% after`);
  };
  range.addEventListener("input", () => setPosition(Number(range.value)));
  figure.append(
    after,
    h("div", { class: "compare-before-clip" }, beforeImage),
    h("span", { class: "compare-tag compare-tag-before", "aria-hidden": "true" }, "Before"),
    h("span", { class: "compare-tag compare-tag-after", "aria-hidden": "true" }, "After"),
    h("span", { class: "compare-handle", "aria-hidden": "true" }, h("span", { class: "compare-knob" }, "⟷")),
    range,
  );
  setPosition(50);
  return {
    element: figure,
    setPosition,
    showOutput(next: Output) {
      const image = resultImage(next, afterAlt(next), "compare-after");
      after.replaceWith(image);
      after = image;
      figure.style.aspectRatio = `${next.width} / ${next.height}`;
    },
  };
}
