"""The event indexer: the suite's events replayed into a SQL database, a margin below the chain's tip
(discovery, the CLI and the explorer read it)."""

from offnet.indexer.store import IndexStore, ProviderRow, SyncStatus, default_index_url
from offnet.indexer.sync import EventIndexer, SyncReport

__all__ = ["EventIndexer", "IndexStore", "ProviderRow", "SyncReport", "SyncStatus", "default_index_url"]
