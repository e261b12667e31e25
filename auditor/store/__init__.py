"""The evidence store: every run's fetches, pages, links, verdicts, measurements, findings and errors
(``database``). Checks read it only through the read-only views in :mod:`auditor.context`."""

from auditor.store import history as history  # noqa: E402,F401  (registers finding_history, triage)
from auditor.store import journal as journal  # noqa: E402 - registers the run journal's table on the shared metadata
