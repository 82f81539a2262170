"""The one thing pyproject.toml cannot say: the optional compiled BTF parser.

``optional=True``: where no C compiler or Python headers are at hand, the
build goes on without it and bpflink runs its pure-Python parser (the same
results, slower; see docs/architecture.md, "The compiled parser").
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("bpflink.btf._accel", ["bpflink/btf/_accel.c"], optional=True)])
