"""The SPARQL endpoint: the 1.1 Protocol at /sparql, its formats, its query page and its service
description."""
