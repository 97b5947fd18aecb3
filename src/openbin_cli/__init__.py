"""OpenBin's local side: the ``openbin`` CLI, the local server and the AWS emulation."""
