--    1 | procs = NEW process ["cmd.exe"]
-- procs = NEW process (line 1)
-- no query compiled for the data: 1 item(s) become process objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then procs is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | r1 = FIND file CREATED procs
-- r1 = FIND file CREATED procs (line 2)
-- fails at run time: relation CREATED is not defined from process (procs) to file; valid here: LINKED, LOADED BY

--    3 | r2 = FIND process CREATED nope
-- r2 = FIND process CREATED nope (line 3)
-- fails at run time: unknown variable 'nope'

--    4 | g = GROUP procs BY name WITH COUNT(pid)
-- g = GROUP procs (line 4)
-- columns: name, count_pid
-- the rows are stored as a table (JSON per row)
SELECT k0, COUNT(a0)
FROM (
  SELECT json_extract(e.props, :p0) AS k0, json_extract(e.props, :p1) AS a0
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
)
GROUP BY k0
ORDER BY k0;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."pid"'
--   :cid = 1
--   :var_procs = 'procs'

--    5 | r3 = FIND process CREATED g
-- r3 = FIND process CREATED g (line 5)
-- fails at run time: variable g holds a GROUP/JOIN table, not entities

--    6 | r4 = FIND process SPAWNED procs
-- r4 = FIND process SPAWNED procs (line 6)
-- fails at run time: unknown relation 'SPAWNED'
