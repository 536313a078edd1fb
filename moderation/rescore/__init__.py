"""Re-scoring comments in bulk: files, stored comments (ours or a foreign table),
on this machine or on a Dask cluster."""

from .database import RunReport, rescore_database
from .files import FORMATS, RescoreReport, read_records, rescore_file
from .sources import ForeignSource, OwnSource, Selection

__all__ = ["FORMATS", "ForeignSource", "OwnSource", "RescoreReport", "RunReport", "Selection",
           "read_records", "rescore_database", "rescore_file"]
