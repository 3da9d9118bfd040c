"""Developer entry points run with ``python -m scripts.<name>`` (see the Makefile)."""
