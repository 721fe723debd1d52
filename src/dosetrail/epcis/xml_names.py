"""Small helpers for walking lxml trees the way the EPCIS XML binding needs."""

from __future__ import annotations

from typing import Any

from lxml import etree

__all__ = ["WRAPPERS", "add", "children", "split_tag"]

WRAPPERS = frozenset({"extension", "baseExtension"})
"""EPCIS 1.x wrapper elements, transparent in 2.0."""


def split_tag(node: object) -> tuple[str, str]:
    """(namespace, local name) of an lxml tag or attribute name."""
    tag = node if isinstance(node, str) else str(node)
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def add(out: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key``; a repeated key becomes an array (XML repetition = JSON array)."""
    if key not in out:
        out[key] = value
    elif isinstance(out[key], list):
        out[key].append(value)
    else:
        out[key] = [out[key], value]
