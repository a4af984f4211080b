"""geohazard-cli: the duty officer's tool for a district geohazard emergency plan."""

__version__ = "0.1.0"
