"""Domain services: the rules of the contract, with no knowledge of events or HTTP."""
