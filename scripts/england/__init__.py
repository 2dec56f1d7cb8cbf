"""The England default dataset's data, prose templates and helpers for scripts/build_england.py.

``scripts/`` is not a package: build_england.py imports ``england`` from its own folder, which
Python puts first on the path when it runs the script. README.md lists the files here.
"""
