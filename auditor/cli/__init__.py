"""The ``govaudit`` command line (``main``)."""
