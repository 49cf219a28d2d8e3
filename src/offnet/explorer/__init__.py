"""The marketplace explorer: server-rendered pages (and their JSON twins) over the event index, kept
in sync with the chain as blocks arrive. `offnet explorer` serves it."""

from offnet.explorer.app import create_app
from offnet.explorer.follower import Follower
from offnet.explorer.pages import Explorer

__all__ = ["Explorer", "Follower", "create_app"]
