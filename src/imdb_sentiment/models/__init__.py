"""Model kinds: the contract (``base``), one module per family, and the registry mapping kind names to classes."""
