"""Master data: the location hierarchy and the product, as an EPCIS document (profile §5).

Country → provinces → counties → stores and facilities → cold rooms, fridges and outreach posts,
linked by ``children``; every element carries its name and ``dt`` site type, areas and
facilities their population and target population. This is what location queries (``WD_``) and
coverage use. Ghost facilities are in it: the ministry registered them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dosetrail.epcis import Document
from dosetrail.sim.commodities import DOSES_PER_COURSE, DOSES_PER_VIAL, VIALS_PER_CASE, Product
from dosetrail.sim.events import CONTEXT, DT, NAMESPACES
from dosetrail.sim.geography import Country, area_uri
from dosetrail.sim.gs1 import BORDER, CARRIER, DONOR, MINISTRY
from dosetrail.sim.parties import Party

__all__ = ["master_data_document"]

_NAME = "urn:epcglobal:cbv:mda:name"
_COUNTRY = "urn:epcglobal:cbv:mda:countryCode"
_LAT = "urn:epcglobal:cbv:mda:latitude"
_LON = "urn:epcglobal:cbv:mda:longitude"


def _element(
    uri: str, name: str | None, site_type: str, children: Sequence[str] = (), **extra: Any
) -> dict[str, Any]:
    attributes: list[dict[str, Any]] = []
    if name is not None:
        attributes.append({"id": _NAME, "attribute": name})
    attributes.append({"id": DT + "siteType", "attribute": site_type})
    for key, value in extra.items():
        if value is None:
            continue
        ident = {"country": _COUNTRY, "lat": _LAT, "lon": _LON}.get(key, DT + key)
        attributes.append({"id": ident, "attribute": value})
    element: dict[str, Any] = {"id": uri, "attributes": attributes}
    if children:
        element["children"] = list(children)
    return element


def _locations(country: Country, parties: dict[str, Party]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    provinces = [area_uri(p.code) for p in country.provinces]
    central = MINISTRY.sgln(country.central_ref)
    out.append(
        _element(
            area_uri("KP"),
            "Democratic People's Republic of Korea",
            "country",
            [*provinces, central],
            country="KP",
        )
    )
    out.append(
        _element(
            central,
            parties["central-store"].name,
            "central_store",
            [MINISTRY.sgln(country.central_ref, "CR1")],
            country="KP",
        )
    )
    out.append(_element(MINISTRY.sgln(country.central_ref, "CR1"), None, "cold_room"))
    for p in country.provinces:
        store = MINISTRY.sgln(p.store_ref)
        counties = [c.area for c in p.counties]
        out.append(
            _element(
                area_uri(p.code),
                p.spec.name,
                "province",
                [store, *counties],
                population=p.population,
                targetPopulation=sum(c.target for c in p.counties),
            )
        )
        out.append(
            _element(
                store,
                parties[f"prov-{p.code.lower()}"].name,
                "provincial_store",
                [MINISTRY.sgln(p.store_ref, "CR1")],
                country="KP",
                lat=p.spec.lat,
                lon=p.spec.lon,
            )
        )
        out.append(_element(MINISTRY.sgln(p.store_ref, "CR1"), None, "cold_room"))
        for c in p.counties:
            store = MINISTRY.sgln(c.store_ref)
            sites = [f.sgln for f in c.facilities]
            out.append(
                _element(
                    c.area,
                    c.name,
                    "county",
                    [store, *sites],
                    population=c.population,
                    targetPopulation=c.target,
                )
            )
            out.append(
                _element(
                    store,
                    f"{c.name} vaccine store",
                    "county_store",
                    [MINISTRY.sgln(c.store_ref, "CR1")],
                    country="KP",
                    lat=c.lat,
                    lon=c.lon,
                )
            )
            out.append(_element(MINISTRY.sgln(c.store_ref, "CR1"), None, "cold_room"))
            for f in c.facilities:
                subs = [MINISTRY.sgln(f.ref, "F1")] + [
                    f.post_sgln(i) for i in range(1, f.posts + 1)
                ]
                out.append(
                    _element(
                        f.sgln,
                        f.name,
                        f.kind,
                        subs,
                        country="KP",
                        lat=f.lat,
                        lon=f.lon,
                        population=f.population,
                        targetPopulation=f.target,
                    )
                )
                out.append(_element(subs[0], None, "fridge"))
                for i in range(1, f.posts + 1):
                    out.append(
                        _element(f.post_sgln(i), f"{f.name} outreach post {i}", "outreach_post")
                    )
    out.append(_element(DONOR.sgln(2), parties["donor"].name + " warehouse", "origin_warehouse"))
    out.append(_element(CARRIER.sgln(10), "Port of loading", "sea_port"))
    out.append(_element(CARRIER.sgln(11), "Dandong railhead", "railhead", country="CN"))
    out.append(
        _element(BORDER.sgln(10), "Nampo port", "sea_port", country="KP", lat=38.73, lon=125.39)
    )
    out.append(
        _element(
            BORDER.sgln(11),
            "Sinuiju border crossing",
            "border_crossing",
            country="KP",
            lat=40.10,
            lon=124.39,
        )
    )
    return out


def _products(product: Product) -> list[dict[str, Any]]:
    attributes = [
        {"id": "urn:epcglobal:cbv:mda:regulatedProductName", "attribute": product.name},
        {"id": DT + "dosesPerVial", "attribute": DOSES_PER_VIAL},
        {"id": DT + "vialsPerCase", "attribute": VIALS_PER_CASE},
        {"id": DT + "dosesPerCourse", "attribute": DOSES_PER_COURSE},
        {"id": DT + "storageMinC", "attribute": product.storage_min},
        {"id": DT + "storageMaxC", "attribute": product.storage_max},
        {"id": DT + "openVialHours", "attribute": product.open_vial_hours},
    ]
    case = {
        "id": DONOR.product_class(product.case_gtin),
        "attributes": [
            {
                "id": "urn:epcglobal:cbv:mda:regulatedProductName",
                "attribute": product.name + " (case)",
            },
            {"id": DT + "vialsPerCase", "attribute": VIALS_PER_CASE},
        ],
    }
    return [{"id": DONOR.product_class(product.vial_gtin), "attributes": attributes}, case]


def master_data_document(
    country: Country, parties: dict[str, Party], product: Product, created: str
) -> Document:
    vocabularies = [
        {
            "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
            "vocabularyElementList": _locations(country, parties),
        },
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": _products(product)},
    ]
    header = {
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisHeader": {"epcisMasterData": {"vocabularyList": vocabularies}},
    }
    return Document([], dict(NAMESPACES), header=header, context=CONTEXT)
