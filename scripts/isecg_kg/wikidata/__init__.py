"""Wikidata linking: check the links, suggest missing ones, export QuickStatements.

Modules: ``entities`` (our side: the linkable entities, their names and links), ``client`` (the
polite SPARQL client), ``linking`` (``link check``), ``suggestions`` (``--suggest``),
``quickstatements`` (``link quickstatements``), ``command`` (the ``link`` subcommand).

The links
    ``data/wikidata-links.ttl`` holds every link: ``schema:sameAs wd:Q…`` on the entity, plus one
    ``isecg:LinkRecord`` per link saying where the QID was seen (``isecg:evidence``), when it was
    recorded (``dcterms:created``) and against which reference (``dcterms:source``). Only QIDs that
    ``shared/reference/wikidata.md`` gives are linked; everything else stays unlinked and is
    listed by ``link check``.

Why ``schema:sameAs`` and not ``owl:sameAs`` or ``skos:exactMatch``
    ``owl:sameAs`` would state that our IRI and the Wikidata IRI denote one resource, so an OWL RL
    reasoner copies every statement about either IRI onto the other (owlrl's run time grows about
    n³ with sameAs chains), and every Wikidata statement a consumer merges in would become a
    statement about our entity, including Wikidata's errors. ``skos:exactMatch`` links concepts:
    SKOS makes both ends ``skos:Concept`` s, so agencies and countries would become concepts.
    ``schema:sameAs`` ("a reference page that unambiguously indicates the item's identity", the
    Wikidata entry among schema.org's examples) entails nothing; the ontology declares it an
    annotation property and its comment gives the whole argument.

``link check``
    Asks a Wikidata SPARQL endpoint about every link in batches (``VALUES``): does the item exist,
    is it a redirect (Wikidata models a redirect as ``owl:sameAs`` from the old item to the new
    one), does any of its labels, aliases or short names (P1813) agree with one of our names, and
    does its country (P17) agree with ours. One line per problem,
    ``[SEVERITY] file: entity: message``; then one ``[INFO]`` line per unlinked entity; with
    ``suggest`` one ``[SUGGEST]`` line per candidate found by exact name / acronym match (nothing
    is written). Exit codes as ``validate``: 0 every link agrees, 1 mismatches found, 2 error
    (endpoint unreachable, garbage).

``link quickstatements``
    QuickStatements v1 (tab-separated) for "member of (P463) ISECG", made by
    builder/quickstatements.py (which documents the lines): one command line per membership and
    reference, the dates at the sources' precision (BNSC from November 2007 to 1 April 2010,
    UKSA from 1 April 2010), each reference the source's own address (S854) beside the copy
    where it was read (S1065) and the day it was read (S813); a source without an address of
    its own (the brochure; a report known only through docslib.org's copy) is not cited. ISECG
    has no known QID, hence ``--isecg-qid`` is required; every build writes the same lines as
    ``isecg-quickstatements.txt`` with a placeholder QuickStatements refuses in its place.
    ``--endpoint`` leaves out the memberships the endpoint already states.

The HTTP client is polite per the Wikimedia User-Agent policy: a descriptive User-Agent naming
isecg-kg and its version, timeouts, and bounded retries with exponential backoff that honour
``Retry-After`` on 429 and 5xx answers.
"""
