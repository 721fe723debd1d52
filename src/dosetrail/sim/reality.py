"""What an independent monitor would find on a visit: the observable reality behind the claims.

Per session: whether it took place, the true tallies, the register the facility would show, the
empty vials in its waste box, and how likely a person listed in the register is to confirm being
vaccinated (honest registers: 0.97, for recall and absence). Per site, as of the campaign's
stock count day: whether it exists, the true stock by lot, its worst VVM stage by lot, and the
doses truly administered. Certification tests draw their samples and compare against this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dosetrail.sim.adversary import Claim, TrueSession

__all__ = ["HONEST_CONFIRMATION", "Reality"]

HONEST_CONFIRMATION = 0.97


@dataclass(slots=True)
class Reality:
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    offbook: dict[str, dict[str, Any]] = field(default_factory=dict)

    def session(  # noqa: PLR0917
        self,
        session_id: str,
        true: TrueSession | None,
        claim: Claim,
        date: str,
        post: str,
        compromised_doses: int,
    ) -> None:
        true_total = true.total if true is not None and claim.held else 0
        register = claim.register_doses if claim.register_doses is not None else true_total
        listed = register if claim.register_found else 0
        confirm = HONEST_CONFIRMATION * min(1.0, true_total / listed) if listed else 0.0
        site = true.site if true is not None else None
        self.sessions[session_id] = {
            "site": site.sgln if site is not None else None,
            "party": site.key if site is not None else None,
            "post": post,
            "date": date,
            "round": true.round if true is not None else None,
            "held": claim.held and true_total > 0,
            "claimedDoses": claim.total,
            "trueDoses": true_total,
            "trueAdministered": [
                {"ageGroup": g, "doseNumber": d, "count": n}
                for g, d, n in (true.tallies if true is not None and claim.held else [])
                if n
            ],
            "registerFound": claim.register_found,
            "registerDoses": listed,
            "registerMatches": claim.register_found and listed == claim.total,
            "vialsOpenedTrue": sum(n for _, n in true.runs) if true and claim.held else 0,
            "vialsClaimed": len(claim.epcs),
            "confirmationProbability": round(confirm, 4),
            "genuineProduct": claim.genuine,
            "compromisedDoses": compromised_doses,
        }

    def as_json(self, header: dict[str, Any]) -> dict[str, Any]:
        return {**header, "sites": self.sites, "sessions": self.sessions, "offbook": self.offbook}
