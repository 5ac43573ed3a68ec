"""Image processing with Pillow: checking and preparing uploads, rendering output variants.

Modules (import them directly; this package imports nothing so the API's cold start stays light):

- ``prepare``: sniff the type by magic bytes, guard size and pixel count, decode, and produce the
  model input (upright, sRGB JPEG, long edge at the model's size, dimensions multiples of 8).
- ``normalize``: orientation and colour handling shared by the other modules.
- ``variants``: the delivered images (full JPEG, WebP widths, thumbnail), blurhash, dominant colour.
"""
