"""The build wing (named builder, not build: tools take a build/ folder for generated output and
skip it): sources in, release out.

load → validate (literals, locate, shacl_compile/shacl_sparql) → reason → serialize → void,
written atomically by ``pipeline``; ``format`` keeps the Turtle sources canonical; ``release``,
``diff``/``changelog`` and ``catalog`` make, compare and describe the kept releases.
"""
