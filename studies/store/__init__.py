"""The results store: its schema, the records it holds, and the SQLAlchemy store itself."""

from studies.store.records import STATUSES, EpochRecord, RunRecord
from studies.store.store import SCHEMA_VERSION, Store, StoreError

__all__ = ["SCHEMA_VERSION", "STATUSES", "EpochRecord", "RunRecord", "Store", "StoreError"]
