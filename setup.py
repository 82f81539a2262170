"""The one thing pyproject.toml cannot say: the optional compiled module.

``optional=True``: where no C compiler or Python headers are at hand, the
build goes on without it, and bpflink runs the pure-Python twins of its
functions (the same results, slower; see docs/design.md, "The compiled
module").
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bpflink._accel", ["bpflink/_accel.c"], optional=True)])
