"""TAXII server storage backends (one per graph-store backend): :mod:`.base` defines them."""
