"""The sparql wing: check, run and answer SPARQL queries, here or on an external store."""
