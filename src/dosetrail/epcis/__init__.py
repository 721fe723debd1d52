"""GS1 EPCIS 2.0 events: model, JSON-LD and XML, validation, identifiers, CBV vocabulary, hash."""
