"""CBV 2.0 standard vocabularies and how EPCIS values name them.

One value can be written four ways (CBV 2.0 §7, EPCIS 2.0 JSON-LD binding):

- bare string in JSON-LD: ``shipping`` (expanded by the ``@context`` term of its field);
- Web URI: ``https://ref.gs1.org/cbv/BizStep-shipping`` (the canonical form, used by the hash);
- CBV 1.x URN: ``urn:epcglobal:cbv:bizstep:shipping``;
- CURIE: ``cbv:BizStep-shipping`` (``cbv:`` = ``https://ref.gs1.org/cbv/``, ``gs1:`` =
  ``https://gs1.org/voc/``).

The term lists are those of the GS1 EPCIS 2.0 JSON-LD context (``epcis-context.jsonld`` and its
per-vocabulary sources ``cbv-context-*.jsonld``, ``gs1-context-*.jsonld``); a test compares them
with the files in the shared conformance folder so they cannot drift. Sensor measurement and
alert types live in the GS1 Web vocabulary (``https://gs1.org/voc/``): the inlined context and the
CBV 2.0 hash vectors use that namespace, while ``epcis-context-simple.jsonld`` maps ``exception``
to ``https://ref.gs1.org/voc/``; the full context wins.

:meth:`Vocabulary.expand` is the per-field rule of the CBV 2.0 event hash (§8.9): a standard
bare term becomes its Web URI, a ``cbv:``/``gs1:`` CURIE is expanded, a CBV 1.x URN of a standard
vocabulary type becomes the Web URI whatever its suffix, anything else is kept as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dosetrail.errors import InvalidDocument, Location

__all__ = [
    "BIZ_STEP",
    "BIZ_TRANSACTION_TYPE",
    "COMPONENT",
    "CURIE_PREFIXES",
    "DISPOSITION",
    "ERROR_REASON",
    "FIELD_VOCABULARIES",
    "MEASUREMENT_TYPE",
    "SENSOR_ALERT_TYPE",
    "SOURCE_DESTINATION_TYPE",
    "VOCABULARIES",
    "Vocabulary",
    "cbv_urn_to_web_uri",
    "compact_field_value",
    "expand_curie",
    "expand_field_value",
    "is_standard_bizstep",
    "is_standard_disposition",
]

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"
CURIE_PREFIXES: Mapping[str, str] = MappingProxyType({"cbv:": CBV, "gs1:": GS1_VOC})
"""The standard prefixes expanded in values (EPCIS 2.0 context; XML binding CURIEs)."""


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One standard vocabulary: its Web URI prefix, CBV 1.x URN prefix (if any) and terms."""

    name: str
    web_prefix: str
    urn_prefix: str | None
    terms: frozenset[str]
    context_file: str
    """The GS1 JSON-LD context file that defines the terms (checked by the tests)."""

    def term(self, value: str) -> str | None:
        """The standard term ``value`` names, written any of the four ways; else ``None``."""
        if value in self.terms:
            return value
        uri = expand_curie(value)
        if uri.startswith(self.web_prefix):
            rest = uri[len(self.web_prefix) :]
        elif self.urn_prefix and value.startswith(self.urn_prefix):
            rest = value[len(self.urn_prefix) :]
        else:
            return None
        return rest if rest in self.terms else None

    def is_standard(self, value: str) -> bool:
        """Whether ``value`` names a term of this vocabulary (bare, Web URI, URN or CURIE)."""
        return self.term(value) is not None

    def web_uri(self, term: str, *, field: str | None = None) -> str:
        """The Web URI of a standard term, e.g. ``shipping`` → ``https://ref.gs1.org/cbv/
        BizStep-shipping``.

        Raises:
            InvalidDocument: if ``term`` is not a standard term of this vocabulary.
        """
        if term not in self.terms:
            raise InvalidDocument(
                f"{term[:60]!r} is not a standard CBV 2.0 {self.name} value",
                Location(field=field or self.name),
            )
        return self.web_prefix + term

    def urn(self, value: str, *, field: str | None = None) -> str:
        """The CBV 1.x URN of a standard value (any of the four forms), for EPCIS 1.2 output.

        Raises:
            InvalidDocument: if the vocabulary has no URN form or ``value`` is not standard.
        """
        term = self.term(value)
        if term is None or self.urn_prefix is None:
            raise InvalidDocument(
                f"{value[:60]!r} has no CBV 1.x URN form as a {self.name} value",
                Location(field=field or self.name),
            )
        return self.urn_prefix + term

    def expand(self, value: str) -> str:
        """``value`` as the CBV 2.0 event hash writes it in this vocabulary's fields."""
        if value in self.terms:
            return self.web_prefix + value
        return cbv_urn_to_web_uri(expand_curie(value))


def _vocabulary(
    name: str, web_prefix: str, urn_type: str | None, context_file: str, terms: str
) -> Vocabulary:
    urn_prefix = f"urn:epcglobal:cbv:{urn_type}:" if urn_type else None
    return Vocabulary(name, web_prefix, urn_prefix, frozenset(terms.split()), context_file)


BIZ_STEP = _vocabulary(
    "bizStep",
    CBV + "BizStep-",
    "bizstep",
    "cbv-context-bizstep.jsonld",
    """accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding
    entering_exiting holding inspecting installing killing loading other packing picking
    receiving removing repackaging repairing replacing reserving retail_selling sampling
    sensor_reporting shipping staging_outbound stock_taking stocking storing transporting
    unloading unpacking void_shipping""",
)
DISPOSITION = _vocabulary(
    "disposition",
    CBV + "Disp-",
    "disp",
    "cbv-context-disposition.jsonld",
    """active available completeness_verified completeness_inferred conformant container_closed
    container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit
    inactive mismatch_instance mismatch_class mismatch_quantity needs_replacement
    no_pedigree_match non_conformant non_sellable_other partially_dispensed recalled reserved
    retail_sold returned sellable_accessible sellable_not_accessible stolen unavailable
    unknown""",
)
BIZ_TRANSACTION_TYPE = _vocabulary(
    "bizTransaction type",
    CBV + "BTT-",
    "btt",
    "cbv-context-biztransaction-type.jsonld",
    "bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt",
)
SOURCE_DESTINATION_TYPE = _vocabulary(
    "source/destination type",
    CBV + "SDT-",
    "sdt",
    "cbv-context-sourcedest-type.jsonld",
    "owning_party possessing_party location",
)
ERROR_REASON = _vocabulary(
    "errorDeclaration reason",
    CBV + "ER-",
    "er",
    "cbv-context-error-reason.jsonld",
    "did_not_occur incorrect_data",
)
MEASUREMENT_TYPE = _vocabulary(
    "sensorReport type",
    GS1_VOC,
    None,
    "gs1-context-measurement-type.jsonld",
    """AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude
    AmountOfSubstance AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum
    AngularVelocity Area Capacitance Conductance Conductivity Count Density Dimensionless
    DoseEquivalent DoseEquivalentRate DynamicViscosity ElectricCharge ElectricCurrent
    ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency Illuminance
    Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux
    LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass
    MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy
    MolarMass MolarVolume Power Pressure RadiantFlux RadiantIntensity RelativeHumidity Resistance
    Resistivity SolidAngle SpecificVolume Speed SurfaceDensity SurfaceTension Temperature Time
    Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux Wavenumber""",
)
SENSOR_ALERT_TYPE = _vocabulary(
    "sensorReport exception",
    GS1_VOC,
    None,
    "gs1-context-sensor-alert-type.jsonld",
    "ALARM_CONDITION ERROR_CONDITION",
)
COMPONENT = _vocabulary(
    "sensorReport component",
    CBV + "Comp-",
    None,
    "cbv-context-component.jsonld",
    """x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting
    northing latitude longitude altitude""",
)

VOCABULARIES = (
    BIZ_STEP,
    DISPOSITION,
    BIZ_TRANSACTION_TYPE,
    SOURCE_DESTINATION_TYPE,
    ERROR_REASON,
    MEASUREMENT_TYPE,
    SENSOR_ALERT_TYPE,
    COMPONENT,
)

FIELD_VOCABULARIES: Mapping[str, Vocabulary] = MappingProxyType(
    {
        "bizStep": BIZ_STEP,
        "disposition": DISPOSITION,
        "persistentDisposition.set": DISPOSITION,
        "persistentDisposition.unset": DISPOSITION,
        "bizTransactionList.type": BIZ_TRANSACTION_TYPE,
        "sourceList.type": SOURCE_DESTINATION_TYPE,
        "destinationList.type": SOURCE_DESTINATION_TYPE,
        "errorDeclaration.reason": ERROR_REASON,
        "sensorReport.type": MEASUREMENT_TYPE,
        "sensorReport.exception": SENSOR_ALERT_TYPE,
        "sensorReport.component": COMPONENT,
    }
)
"""JSON field path (parent.field) → the vocabulary its ``@context`` term scopes bare strings to."""

_URN_TYPES = {v.urn_prefix: v.web_prefix for v in VOCABULARIES if v.urn_prefix}


def expand_curie(value: str) -> str:
    """``cbv:X`` → ``https://ref.gs1.org/cbv/X``, ``gs1:X`` → ``https://gs1.org/voc/X``; any
    other value unchanged (user prefixes are not expanded in values, as in the hash vectors)."""
    head = value[:4]
    if head in CURIE_PREFIXES:
        return CURIE_PREFIXES[head] + value[4:]
    return value


def cbv_urn_to_web_uri(value: str) -> str:
    """A CBV 1.x vocabulary URN as its Web URI, whatever its suffix (the event hash rule):
    ``urn:epcglobal:cbv:bizstep:X`` → ``https://ref.gs1.org/cbv/BizStep-X``, likewise ``disp``,
    ``btt``, ``sdt``, ``er``. Other values, e.g. ``urn:epcglobal:cbv:bt:...`` transaction IDs,
    are unchanged."""
    if value.startswith("urn:epcglobal:cbv:"):
        kind_end = value.find(":", 18)
        web_prefix = _URN_TYPES.get(value[: kind_end + 1]) if kind_end > 0 else None
        if web_prefix is not None:
            return web_prefix + value[kind_end + 1 :]
    return value


def expand_field_value(field: str, value: str) -> str:
    """``value`` of JSON field ``field`` (a key of :data:`FIELD_VOCABULARIES`) as the CBV 2.0
    event hash writes it; fields without a vocabulary only get CURIEs and CBV URNs expanded."""
    vocabulary = FIELD_VOCABULARIES.get(field)
    if vocabulary is not None:
        return vocabulary.expand(value)
    return cbv_urn_to_web_uri(expand_curie(value))


def compact_field_value(field: str, value: str) -> str:
    """``value`` of field ``field`` as the JSON-LD binding writes it: a standard term bare
    (``urn:epcglobal:cbv:bizstep:shipping`` → ``shipping``), anything else unchanged."""
    vocabulary = FIELD_VOCABULARIES.get(field)
    term = vocabulary.term(value) if vocabulary is not None else None
    return value if term is None else term


def is_standard_bizstep(value: str) -> bool:
    """Whether ``value`` (bare, Web URI, URN or CURIE) is a CBV 2.0 standard business step."""
    return BIZ_STEP.is_standard(value)


def is_standard_disposition(value: str) -> bool:
    """Whether ``value`` (bare, Web URI, URN or CURIE) is a CBV 2.0 standard disposition."""
    return DISPOSITION.is_standard(value)
