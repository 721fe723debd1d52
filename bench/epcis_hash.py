"""Parse + CBV 2.0 hash throughput against the reference implementation, and memory when streaming.

Prints one JSON line per measurement:
- ``hash``: events/s for dosetrail and for ``epcis-event-hash-generator`` (PyPI, the GS1
  reference tool) on the same 100,000-event document, both bindings, and their ratio; the two
  must also agree on every hash ID.
- ``scaling``: dosetrail's events/s and peak RSS for XML documents of growing size, each hashed in
  a fresh process, showing linear time and flat memory (streaming). ``--big`` adds a ~1 GB file.

Run: ``python bench/epcis_hash.py [--events N] [--big]`` (needs the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from _util import emit, run_child

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
STEPS = [
    ("shipping", "in_transit"),
    ("receiving", "in_progress"),
    ("storing", "sellable_accessible"),
]


def _event(i: int) -> dict[str, object]:
    """A realistic ObjectEvent: a case of vials moving through the cold chain."""
    step, disp = STEPS[i % 3]
    day, sec = divmod(i, 86_400)
    return {
        "type": "ObjectEvent",
        "eventTime": f"2024-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}T"
        f"{sec // 3600:02d}:{sec // 60 % 60:02d}:{sec % 60:02d}.{i % 1000:03d}+09:00",
        "eventTimeZoneOffset": "+09:00",
        "epcList": [f"urn:epc:id:sgtin:9520001.012345.{i * 4 + k}" for k in range(4)],
        "action": "OBSERVE",
        "bizStep": step,
        "disposition": disp,
        "readPoint": {"id": f"urn:epc:id:sgln:9520001.00{i % 90 + 10:02d}.0"},
        "bizLocation": {"id": f"urn:epc:id:sgln:9520001.00{i % 90 + 10:02d}.0"},
        "bizTransactionList": [
            {"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:9520001000009:{i // 50}"}
        ],
    }


def write_json(path: Path, n: int) -> None:
    doc = {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-01-01T00:00:00Z",
        "epcisBody": {"eventList": [_event(i) for i in range(n)]},
    }
    path.write_bytes(orjson.dumps(doc))


def write_xml(path: Path, n: int) -> None:
    """Stream a large XML document to disk without building it in memory."""
    with path.open("w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<epcis:EPCISDocument '
            'xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" '
            'creationDate="2024-01-01T00:00:00Z"><EPCISBody><EventList>\n'
        )
        for i in range(n):
            e = _event(i)
            epcs = "".join(f"<epc>{x}</epc>" for x in e["epcList"])  # type: ignore[union-attr]
            f.write(
                f"<ObjectEvent><eventTime>{e['eventTime']}</eventTime>"
                f"<eventTimeZoneOffset>+09:00</eventTimeZoneOffset><epcList>{epcs}</epcList>"
                f"<action>OBSERVE</action>"
                f"<bizStep>urn:epcglobal:cbv:bizstep:{e['bizStep']}</bizStep>"
                f"<disposition>urn:epcglobal:cbv:disp:{e['disposition']}</disposition>"
                f"<readPoint><id>{e['readPoint']['id']}</id></readPoint>"  # type: ignore[index]
                f"<bizLocation><id>{e['bizLocation']['id']}</id></bizLocation>"  # type: ignore[index]
                f'<bizTransactionList><bizTransaction type="urn:epcglobal:cbv:btt:desadv">'
                f"urn:epcglobal:cbv:bt:9520001000009:{i // 50}</bizTransaction>"
                f"</bizTransactionList></ObjectEvent>\n"
            )
        f.write("</EventList></EPCISBody></epcis:EPCISDocument>\n")


def ours(path: Path) -> tuple[list[str], float]:
    """Hash in a fresh process (cold caches, as a real run), returning the IDs and seconds."""
    result = run_child(_CHILD, str(path), "--ids")
    return result["ids"], result["seconds"]


def reference(path: Path) -> tuple[list[str], float] | None:
    try:
        from epcis_event_hash_generator import events_from_file_reader, hash_generator
    except ImportError:
        return None
    start = time.perf_counter()
    events = events_from_file_reader.event_list_from_file(str(path))
    ids = hash_generator.epcis_hashes_from_events(events)
    return ids, time.perf_counter() - start


_CHILD = """
import json, sys, time
from pathlib import Path
from dosetrail.epcis import hash_ids
start = time.perf_counter()
ids = list(hash_ids(Path(sys.argv[1]))) if "--ids" in sys.argv else None
n = len(ids) if ids is not None else sum(1 for _ in hash_ids(Path(sys.argv[1])))
seconds = time.perf_counter() - start
status = open("/proc/self/status").read()  # VmHWM: this image's peak, unlike ru_maxrss
rss = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"events": n, "seconds": seconds, "peak_rss_mb": rss, "ids": ids}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--big", action="store_true", help="also hash a ~1 GB XML document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for binding, writer in (("jsonld", write_json), ("xml", write_xml)):
            path = folder / f"doc.{binding}"
            writer(path, args.events)
            mine, t_mine = ours(path)
            theirs = reference(path)
            line: dict[str, object] = {
                "bench": "epcis_hash",
                "binding": binding,
                "events": args.events,
                "bytes": path.stat().st_size,
                "dosetrail_events_per_s": round(args.events / t_mine),
            }
            if theirs is not None:
                ref_ids, t_ref = theirs
                line["peer"] = "epcis-event-hash-generator"
                line["peer_events_per_s"] = round(len(ref_ids) / t_ref)
                line["ratio"] = round(t_ref / t_mine, 1)
                line["same_hash_ids"] = ref_ids == mine
            emit(**line)
        sizes = [10_000, 100_000, 1_000_000] + ([1_200_000] if args.big else [])
        for n in sizes:
            path = folder / f"scale-{n}.xml"
            write_xml(path, n)
            result = run_child(_CHILD, str(path))
            emit(
                bench="epcis_hash_scaling",
                binding="xml",
                events=n,
                bytes=path.stat().st_size,
                events_per_s=round(n / result["seconds"]),
                peak_rss_mb=round(result["peak_rss_mb"], 1),
            )
            path.unlink()


if __name__ == "__main__":
    main()
