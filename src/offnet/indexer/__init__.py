"""The event indexer: registry, escrow and ledger events replayed into a SQL database for discovery."""

from offnet.indexer.store import IndexStore, ProviderRow, default_index_url
from offnet.indexer.sync import EventIndexer, SyncReport

__all__ = ["EventIndexer", "IndexStore", "ProviderRow", "SyncReport", "default_index_url"]
