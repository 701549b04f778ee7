"""The linked data: entity pages and documents, the named graphs, the releases, the static export
and reconciliation."""
