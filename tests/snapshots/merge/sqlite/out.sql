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

--    2 | more = NEW process ["b.exe"]
-- more = NEW process (line 2)
-- no query compiled for the data: 1 item(s) become process objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then more is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | f = NEW file ["c.dll"]
-- f = NEW file (line 3)
-- no query compiled for the data: 1 item(s) become file objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then f is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | all = procs + more + procs
-- all = procs + more + procs (line 4)
-- each entity once, in order of first appearance
SELECT eid
FROM (
  SELECT eid, 0 AS k, rid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  UNION ALL
  SELECT eid, 1 AS k, rid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_more)
  UNION ALL
  SELECT eid, 2 AS k, rid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
)
GROUP BY eid
ORDER BY MIN(k * 1000000000000 + rid);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :var_more = 'more'

--    5 | bad = procs + f
-- bad = procs + f (line 5)
-- fails at run time: cannot merge variables of different types: file, process
