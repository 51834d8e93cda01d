"""Splunk: what stixgraph needs to pull Sysmon events from Splunk through stix-shifter, and to
do it offline.

* :mod:`.cim`        Sysmon events (OTRF JSON, EVTX) -> the Splunk CIM rows the Splunk Add-on
                     for Sysmon produces (what stix-shifter's splunk module queries and maps).
* :mod:`.spl`        the SPL subset stix-shifter emits: parser and evaluator.
* :mod:`.events`     an indexed event file (JSON Lines of CIM rows, OTRF zips) searched with SPL.
* :mod:`.emulator`   Splunk's REST search API over HTTPS on loopback, on :mod:`.events`.
* :mod:`.translate`  CIM result rows -> STIX observed-data, driven by the splunk module's own
                     ``to_stix_map.json`` (a compiled fast path, proven equal to stix-shifter's).

The ``stixshifter://`` data source itself is :mod:`stixgraph.sources.stixshifter`.
"""
