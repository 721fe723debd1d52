"""Speed of the identifier normalisation the CBV 2.0 event hash runs on every EPC.

Hashing 100,000 events calls ``normalise_epc`` about a million times; most calls repeat an EPC
(cache hits), the first sight of each EPC is a miss. Run: ``python bench/bench_identifiers.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dosetrail.epcis.identifiers import canonical_digital_link, normalise_epc

N = 200_000


def _rate(label: str, function: Callable[[str], str], inputs: list[str]) -> float:
    start = time.perf_counter()
    for value in inputs:
        function(value)
    seconds = time.perf_counter() - start
    rate = len(inputs) / seconds
    print(f"{label:<48} {rate:>12,.0f} /s")
    return rate


def main() -> None:
    sgtins = [f"urn:epc:id:sgtin:0614141.112345.{i}" for i in range(N)]
    ssccs = [f"urn:epc:id:sscc:0614141.1{i:09d}" for i in range(N)]
    links = [f"https://example.com/01/10614141123451/21/{i}?17=251231" for i in range(N)]
    escaped = [f"urn:epc:id:sgtin:0614141.112345.A%2F{i}" for i in range(N)]
    _rate("sgtin URN, cache miss", normalise_epc, sgtins)
    _rate("sgtin URN, cache hit", normalise_epc, sgtins[-50_000:] * 4)
    _rate("sgtin URN with %2F escape, cache miss", normalise_epc, escaped)
    _rate("sscc URN, cache miss", normalise_epc, ssccs)
    _rate("Digital Link, custom domain + query, cache miss", canonical_digital_link, links)
    _rate("not an identifier (bizTransaction URL)", normalise_epc, ["http://x.example/po/1"] * N)


if __name__ == "__main__":
    main()
