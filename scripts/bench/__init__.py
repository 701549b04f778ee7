"""Development tools, not installed with the package: the benchmark (``bench``) and the
synthetic graphs it builds (``synth``). Run them from a clone of the repository with
``isecg-kg bench`` and ``isecg-kg synth``; the tests import them from here."""
