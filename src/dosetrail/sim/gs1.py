"""GS1 keys the simulated campaign allocates: GLNs, SSCCs, GDTIs, GIAIs, SGTIN prefixes.

Every identifier is built from a GS1 key with :func:`~dosetrail.epcis.gs1keys.gs1_check_digit`
and turned into its EPC URI by :func:`~dosetrail.epcis.epc_uri.format_epc_uri` (TDS §7), so the
simulator never hand-writes an EPC URI grammar. Company prefixes are 7 digits from the GS1 demo
range 952 (reserved for examples): they can never collide with a real company's keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from dosetrail.epcis.epc_uri import format_epc_uri
from dosetrail.epcis.gs1keys import gs1_check_digit

__all__ = [
    "BORDER",
    "CARRIER",
    "DONOR",
    "MINISTRY",
    "MONITOR",
    "PREFIX_LENGTH",
    "TRUST",
    "CompanyPrefix",
    "biz_transaction",
]

PREFIX_LENGTH = 7


@dataclass(frozen=True, slots=True)
class CompanyPrefix:
    """One GS1 Company Prefix and the keys the simulator derives from it."""

    digits: str

    def gln(self, ref: int) -> str:
        """13-digit GLN for a 5-digit location or party reference."""
        body = f"{self.digits}{ref:05d}"
        return body + str(gs1_check_digit(body))

    def sgln(self, ref: int, extension: str = "0") -> str:
        """``urn:epc:id:sgln:…`` of a location (extension ``0`` = the site itself)."""
        elements: tuple[tuple[str, str], ...] = (("414", self.gln(ref)),)
        if extension != "0":
            elements += (("254", extension),)
        return format_epc_uri(elements, PREFIX_LENGTH)

    def pgln(self, ref: int) -> str:
        """``urn:epc:id:pgln:…`` of a party."""
        return format_epc_uri((("417", self.gln(ref)),), PREFIX_LENGTH)

    def gtin(self, indicator: int, item: int) -> str:
        """GTIN-14: packaging-level indicator digit, company prefix, 5-digit item reference."""
        body = f"{indicator}{self.digits}{item:05d}"
        return body + str(gs1_check_digit(body))

    def sgtin_prefix(self, gtin: str) -> str:
        """The SGTIN URI of ``gtin`` up to and including the last dot; append a serial."""
        uri = format_epc_uri((("01", gtin), ("21", "0")), PREFIX_LENGTH)
        return uri[:-1]

    def lgtin(self, gtin: str, lot: str) -> str:
        """``urn:epc:class:lgtin:…`` of one lot of ``gtin``."""
        return format_epc_uri((("01", gtin), ("10", lot)), PREFIX_LENGTH)

    def product_class(self, gtin: str) -> str:
        """``urn:epc:idpat:sgtin:<cp>.<ir>.*``: the product as an EPCClass vocabulary element."""
        return format_epc_uri((("01", gtin),), PREFIX_LENGTH)

    def sscc(self, serial: int, extension: int = 0) -> str:
        """SSCC EPC URI for a 9-digit serial reference."""
        body = f"{extension}{self.digits}{serial:09d}"
        return format_epc_uri((("00", body + str(gs1_check_digit(body))),), PREFIX_LENGTH)

    def gdti(self, document_type: int, serial: int) -> str:
        """GDTI EPC URI: document type (5 digits) and serial, e.g. a session tally sheet."""
        body = f"{self.digits}{document_type:05d}"
        key = body + str(gs1_check_digit(body)) + str(serial)
        return format_epc_uri((("253", key),), PREFIX_LENGTH)

    def giai(self, asset: str) -> str:
        """GIAI EPC URI of an individual asset, e.g. a temperature logger."""
        return format_epc_uri((("8004", self.digits + asset),), PREFIX_LENGTH)


DONOR = CompanyPrefix("9521000")
"""Donor / manufacturer: product GTINs, vial and case SGTINs, export pallet SSCCs, origin site."""
CARRIER = CompanyPrefix("9522000")
"""Sea and rail carriers: their foreign port and railhead locations, reefer loggers."""
BORDER = CompanyPrefix("9523000")
"""Nampo port authority and Sinuiju border authority."""
MINISTRY = CompanyPrefix("9524000")
"""Ministry of Public Health: stores, facilities, their loggers, tally sheets, repacked pallets."""
MONITOR = CompanyPrefix("9525000")
"""The independent monitor."""
TRUST = CompanyPrefix("9526000")
"""Log operator and witnesses (they record no EPCIS events; their PGLNs name them)."""


def biz_transaction(gln: str, reference: str) -> str:
    """A CBV business transaction identifier, ``urn:epcglobal:cbv:bt:<GLN>:<reference>``."""
    return f"urn:epcglobal:cbv:bt:{gln}:{reference}"
