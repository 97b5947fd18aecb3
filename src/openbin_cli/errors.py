"""The CLI's own refusal, shared by its command modules (``python -m openbin_cli.cli`` runs
``cli`` as ``__main__``: a class defined there would not be the one the others raise)."""


class CommandError(Exception):
    """A problem with what the operator asked for: printed on stderr, exit status 2."""
