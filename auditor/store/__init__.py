"""The evidence store: every run's fetches, pages, links, verdicts, measurements, findings and errors
(``database``). Checks read it only through the read-only views in :mod:`auditor.context`."""
