"""Moving in and out: ``openbin import`` (from a JSONBin v3 API, or an archive) and
``openbin export`` (docs/MOVING.md)."""
