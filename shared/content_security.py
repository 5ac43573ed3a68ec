"""The web app's Content Security Policy, one definition for CloudFront and the local cloud.

The app keeps the user's API key in localStorage, so what may run on its page and where it may send
data is what protects the key: scripts only from the app itself, no inline script, no plugins, no
framing, and connections only to the API and the uploads bucket named here. Inline style attributes
stay allowed (the palette swatches set colours inline); they cannot run code.
"""

from __future__ import annotations

from collections.abc import Sequence


def web_app_policy(*, connect_to: Sequence[str], images_from: Sequence[str] = ()) -> str:
    """The policy for the app's pages: ``connect_to`` the API's and uploads' origins (besides the
    page's own), ``images_from`` where result images come from besides the page's own origin."""
    for origin in (*connect_to, *images_from):
        # scheme://host[:port] only: no scheme-wide source (https:), no '*', nothing that ends a directive.
        if "://" not in origin or any(c in origin for c in " ;,'\"") or origin.endswith(("*", "/")):
            raise ValueError(f"not a CSP source origin: {origin!r}")
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        " ".join(["img-src 'self' data: blob:", *images_from]),
        " ".join(["connect-src 'self'", *connect_to]),
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)
