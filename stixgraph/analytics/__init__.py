"""APPLY analytics: the contract (:mod:`.base`) and the built-ins (``pinip``,
``domainnamelookup``, ``susp_scoring``, ``attribute-plot``)."""
