"""isecg-kg: the ISECG knowledge graph, built, validated, reasoned over, served as linked data."""

__version__ = "0.1.0"
