"""The `offnet` command line."""
