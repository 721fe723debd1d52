"""The human certificate: HTML rendered from the signed statement, and nothing else.

The page is a pure function of the certificate JSON (Jinja2, autoescaped, no clock, no external
resources), so ``dosetrail verify`` re-renders it and requires the bundle's copy to be identical:
what a person reads is what was signed.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

__all__ = ["render_html"]


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dosetrail.certify", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["thousands"] = lambda n: "—" if n is None else f"{n:,}"
    env.filters["percent"] = lambda s: f"{float(s) * 100:.2f} %"
    return env.get_template("certificate.html.j2")


def render_html(certificate: dict[str, Any]) -> bytes:
    """The certificate page (UTF-8)."""
    return _template().render(c=certificate).encode()
