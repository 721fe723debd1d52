"""Stock held at a site: intact cases and runs of loose vials, first-expiry-first-out.

Case numbers grow with commissioning order and lots are commissioned in expiry order, so taking
the lowest numbers first is EEFO. A run ``[start, count]`` is ``count`` consecutive vial numbers
(an opened case, or part of one). Nothing here knows about EPCIS; the engine turns what is
taken into events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from dosetrail.sim.commodities import VIALS_PER_CASE, Catalogue

__all__ = ["Run", "Stock", "run_vials"]

Run = tuple[int, int]
"""(first vial number, number of vials)."""


def run_vials(runs: Iterable[Run]) -> int:
    return sum(n for _, n in runs)


class Stock:
    __slots__ = ("cases", "loose")

    def __init__(self) -> None:
        self.cases: deque[int] = deque()
        self.loose: deque[list[int]] = deque()

    def vials(self) -> int:
        return len(self.cases) * VIALS_PER_CASE + sum(r[1] for r in self.loose)

    def add_cases(self, cases: Iterable[int]) -> None:
        self.cases.extend(cases)

    def add_runs(self, runs: Iterable[Run]) -> None:
        self.loose.extend([s, n] for s, n in runs if n)

    def take_cases(self, count: int) -> list[int]:
        count = min(count, len(self.cases))
        return [self.cases.popleft() for _ in range(count)]

    def take_vials(self, count: int) -> tuple[list[Run], list[int]]:
        """Take ``count`` loose vials (opening cases when loose ones run out).

        Returns the runs taken and the cases opened to get them.
        """
        runs = take_runs(self.loose, count)
        count -= sum(n for _, n in runs)
        opened: list[int] = []
        while count > 0 and self.cases:
            case = self.cases.popleft()
            opened.append(case)
            self.loose.append([case * VIALS_PER_CASE, VIALS_PER_CASE])
            more = take_runs(self.loose, count)
            runs += more
            count -= sum(n for _, n in more)
        return runs, opened

    def runs(self) -> list[Run]:
        """Everything held, as runs (cases as whole runs), in FIFO order."""
        out = [(s, n) for s, n in self.loose]
        out += [(c * VIALS_PER_CASE, VIALS_PER_CASE) for c in self.cases]
        return out

    def by_lot(self, catalogue: Catalogue) -> dict[str, int]:
        return vials_by_lot(self.runs(), catalogue)


def vials_by_lot(runs: Iterable[Run], catalogue: Catalogue) -> dict[str, int]:
    """Vial counts per lot number (runs never straddle a case, so never a lot)."""
    out: dict[str, int] = {}
    for start, count in runs:
        lot = catalogue.lot_of_vial(start).number
        out[lot] = out.get(lot, 0) + count
    return out


def take_range(stock: Stock, first_case: int, end_case: int) -> tuple[list[int], list[Run]]:
    """Remove every case and loose vial of cases ``first_case``..``end_case - 1`` (one lot)."""
    low, high = first_case * VIALS_PER_CASE, end_case * VIALS_PER_CASE
    cases = [c for c in stock.cases if first_case <= c < end_case]
    if cases:
        stock.cases = deque(c for c in stock.cases if not first_case <= c < end_case)
    runs: list[Run] = [(s, n) for s, n in stock.loose if low <= s < high]
    if runs:
        stock.loose = deque(r for r in stock.loose if not low <= r[0] < high)
    return cases, runs


def take_runs(queue: deque[list[int]], count: int) -> list[Run]:
    """Take up to ``count`` vials, first in first out, from ``queue``'s mutable [start, n] runs."""
    runs: list[Run] = []
    while count > 0 and queue:
        run = queue[0]
        take = min(count, run[1])
        runs.append((run[0], take))
        run[0] += take
        run[1] -= take
        count -= take
        if run[1] == 0:
            queue.popleft()
    return runs
