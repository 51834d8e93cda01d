"""TAXII 2.1: publishing STIX 2.1 objects to a collection and pulling them back
(:mod:`stixgraph.taxii.client`); the ``taxii://`` data source is
:mod:`stixgraph.sources.taxii`."""
from .client import (Credentials, PublishReport, TaxiiError, collection_url, credentials,
                     fetch, observations_to_stix, publish)

__all__ = ["Credentials", "PublishReport", "TaxiiError", "collection_url", "credentials",
           "fetch", "observations_to_stix", "publish"]
