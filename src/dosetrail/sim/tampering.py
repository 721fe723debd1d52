"""``rewrite``: the log operator tries to change history after events were logged.

EPCIS input cannot express this, so the documents stay honest and truth.json lists each attempt
for the log and ledger tests to apply:

- ``drop``: remove the logged event (``event``) from the log;
- ``alter``: replace it by ``alteredEvent`` (``field`` changed from ``from`` to ``to``), whose
  hash is ``alteredHash``;
- ``insert``: add ``insertedEvent`` (hash ``insertedHash``) just before the logged event, as if
  it had always been there;
- ``fork``: show witness ``toWitness`` a log in which the event is altered as for ``alter``
  while everyone else sees the original (a split view).

``afterDay`` is the capture day after which the attempt is made (the event is logged by then).
Targets are session events (the numbers a donor cares about) and the central store's shipments.
"""

from __future__ import annotations

import copy
import random
from typing import TYPE_CHECKING, Any

from dosetrail.epcis import Document, hash_id
from dosetrail.sim.adversary import Injection
from dosetrail.sim.events import NAMESPACES

if TYPE_CHECKING:
    from dosetrail.sim.engine import Engine

__all__ = ["ACTIONS", "Rewrite"]

ACTIONS = ("drop", "alter", "insert", "fork")
_PREFIXES = Document([], dict(NAMESPACES)).prefixes()


class Rewrite(Injection):
    name = "rewrite"

    def __init__(self, intensity: float, rng: random.Random) -> None:
        super().__init__(intensity, rng)
        self.remaining = 0
        self.rate = 0.0
        self.shipment_done = False

    def prepare(self, engine: Engine) -> None:
        sessions = (
            sum(1 + (f.facility.posts if f.facility else 0) / 2 for f in engine.all_facilities())
            * 2
            * engine.timeline.round_days
        )
        self.remaining = max(3, min(200, round(self.intensity * sessions)))
        self.rate = min(1.0, 2 * self.remaining / max(1.0, sessions))

    def tags(self, engine: Engine, party: str, day: int, event: dict[str, Any]) -> list[str]:
        if self.remaining <= 0:
            return []
        step = event.get("bizStep")
        if step == "shipping" and party == "central-store" and not self.shipment_done:
            self.shipment_done = True
            return [self._attempt(engine, party, day, event, "drop")]
        if step != "dispensing" or self.rng.random() >= self.rate:
            return []
        action = ACTIONS[self.remaining % len(ACTIONS)]
        return [self._attempt(engine, party, day, event, action)]

    def _attempt(
        self, engine: Engine, party: str, day: int, event: dict[str, Any], action: str
    ) -> str:
        self.remaining -= 1
        attempt: dict[str, Any] = {
            "action": action,
            "party": party,
            "afterDay": engine.clock.date(day),
        }
        if action in ("alter", "fork", "insert") and event.get("dt:administered"):
            changed = copy.deepcopy(event)
            tally = changed["dt:administered"][0]
            before = tally["dt:count"]
            tally["dt:count"] = before + self.rng.randint(5, 40)
            if action == "insert":
                changed["eventTime"] = event["eventTime"].replace("T", "T", 1)
                changed["dt:sessionID"] = event["dt:sessionID"] + "9"
                attempt.update(insertedEvent=changed, insertedHash=hash_id(changed, _PREFIXES))
            else:
                attempt.update(
                    field="dt:administered[0].dt:count",
                    **{"from": before},
                    to=tally["dt:count"],
                    alteredEvent=changed,
                    alteredHash=hash_id(changed, _PREFIXES),
                )
            if action == "fork":
                attempt["toWitness"] = "witness-2"
        elif action != "drop":
            attempt["action"] = "drop"
        return engine.truth.new_rewrite(attempt)
