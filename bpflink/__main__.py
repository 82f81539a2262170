"""``python -m bpflink``: the same as the ``bpflink`` command."""

from .cli import main_entry

main_entry()
