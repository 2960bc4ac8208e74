"""The bundled corpus (five articles, catalog.toml, glossary.toml, userdict.txt) as package data.

This file only makes the folder a package, so an installed Footnote finds its seeds with importlib.resources
(see locations.py); it is not a document of the corpus.
"""
