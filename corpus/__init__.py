"""Makes ``corpus/build.py`` importable as ``corpus.build``.

The pinned compiler command lives there once; the tests and the benchmark
compile their workloads with it too.
"""
