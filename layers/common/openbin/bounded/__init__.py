"""Evaluation whose cost a client controls, within bounds: JSON Schemas (``schemas``, their
meter ``schema_bounds``), JSONPath queries (``jsonpath``), JSON Patch (``patching``), RE2
regular expressions (``regex``), all metered by one step budget (``budget``). Each module is
imported only where a request needs it (cold starts)."""
