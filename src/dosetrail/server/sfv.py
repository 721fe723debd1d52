"""The small part of RFC 8941 structured fields that RFC 9421 signatures need.

``Signature-Input`` is a dictionary whose members are inner lists of strings with parameters
(``sig=("@method" "@path");created=1;keyid="x"``); ``Signature`` and ``Content-Digest``
(RFC 9530) are dictionaries of byte sequences (``sig=:base64:``). Only these shapes are parsed;
anything else is refused rather than guessed at.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from dosetrail.errors import MalformedInput

__all__ = ["SignatureInput", "parse_byte_dictionary", "parse_signature_input"]

_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN_INT = re.compile(r"-?[0-9]{1,15}")

Param = str | int


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """One member of ``Signature-Input``: the covered components and the parameters."""

    label: str
    components: tuple[str, ...]
    params: tuple[tuple[str, Param], ...]

    def param(self, name: str) -> Param | None:
        return next((v for k, v in self.params if k == name), None)

    def serialize(self) -> str:
        """The inner list with parameters, as ``@signature-params`` (RFC 9421 §2.3)."""
        inner = " ".join(_string(c) for c in self.components)
        params = "".join(
            f";{k}={v}" if isinstance(v, int) else f";{k}={_string(v)}" for k, v in self.params
        )
        return f"({inner}){params}"


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Reader:
    def __init__(self, text: str, what: str) -> None:
        self.text, self.pos, self.what = text, 0, what

    def fail(self, why: str) -> MalformedInput:
        return MalformedInput(f"{self.what}: {why} at character {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def key(self) -> str:
        m = _KEY.match(self.text, self.pos)
        if m is None:
            raise self.fail("expected a key")
        self.pos = m.end()
        return m.group()

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        while True:
            c = self.peek()
            if not c:
                raise self.fail("unterminated string")
            self.pos += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                c = self.peek()
                if c not in ('"', "\\"):
                    raise self.fail("bad escape")
                self.pos += 1
            elif not " " <= c <= "~":
                raise self.fail("non-ASCII or control character in string")
            out.append(c)

    def bare(self) -> Param:
        if self.peek() == '"':
            return self.string()
        m = _TOKEN_INT.match(self.text, self.pos)
        if m is None:
            raise self.fail("expected an integer or a string")
        self.pos = m.end()
        return int(m.group())

    def byte_sequence(self) -> bytes:
        self.expect(":")
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        try:
            data = base64.b64decode(self.text[self.pos : end], validate=True)
        except binascii.Error as e:
            raise self.fail("byte sequence is not base64") from e
        self.pos = end + 1
        return data

    def params(self) -> list[tuple[str, Param]]:
        out: list[tuple[str, Param]] = []
        while self.peek() == ";":
            self.pos += 1
            self.skip_spaces()
            name = self.key()
            self.expect("=")
            out.append((name, self.bare()))
        return out

    def member_end(self) -> bool:
        """Skip to the next member; False at the end of the field."""
        self.skip_spaces()
        if not self.peek():
            return False
        self.expect(",")
        self.skip_spaces()
        return True


def parse_signature_input(value: str) -> list[SignatureInput]:
    r = _Reader(value.strip(), "Signature-Input")
    out = []
    while True:
        label = r.key()
        r.expect("=")
        r.expect("(")
        components = []
        while True:
            r.skip_spaces()
            if r.peek() == ")":
                r.pos += 1
                break
            components.append(r.string())
        out.append(SignatureInput(label, tuple(components), tuple(r.params())))
        if not r.member_end():
            return out


def parse_byte_dictionary(value: str, what: str) -> dict[str, bytes]:
    """``label=:base64:, …`` (``Signature``, ``Content-Digest``); parameters are ignored."""
    r = _Reader(value.strip(), what)
    out: dict[str, bytes] = {}
    while True:
        label = r.key()
        r.expect("=")
        out[label] = r.byte_sequence()
        r.params()
        if not r.member_end():
            return out
