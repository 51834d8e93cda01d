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

--    2 | a = GET process FROM procs WHERE pid > 4 LIMIT 3
-- a = GET process FROM procs (line 2)
-- GET from variable procs: a filter of its rows, nothing is fetched
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p1) l0
    WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p2 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p2 END)
  ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) > :p2 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) > :p2 END) END
ORDER BY v.rid
LIMIT :p3
OFFSET :p4;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."pid"'
--   :p2 = 4
--   :p3 = 3
--   :p4 = 0

--    3 | b = GET process FROM procs WHERE name = 'x' START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z
-- b = GET process FROM procs (line 3)
-- GET from variable procs: a filter of its rows, nothing is fetched
-- the time range is ignored when GET reads a variable
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p1) l0
    WHERE (typeof(l0.value) = 'text' AND l0.value = :p2)
  ) ELSE (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p2) END
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = 'x'

--    4 | c = GET file FROM procs WHERE name = 'x'
-- c = GET file FROM procs (line 4)
-- fails at run time: variable procs holds process, not file

--    5 | ts = TIMESTAMPED(procs)
-- ts = TIMESTAMPED(procs) (line 5)
-- ts holds records (one row per entity and observation)
SELECT eid, oid
FROM (
  SELECT v.eid AS eid, c.oid AS oid
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  JOIN contains c ON c.eid = v.eid
  JOIN observations o ON o.oid = c.oid
  WHERE
    v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
    AND 1
  ORDER BY o.first_observed, v.rid, c.oid
);
-- params:
--   :cid = 1
--   :var_procs = 'procs'

--    6 | d = GET process FROM ts WHERE first_observed > t'2024-12-01T00:00:00Z'
-- d = GET process FROM ts (line 6)
-- GET from variable ts: a filter of its rows, nothing is fetched
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
  AND (typeof(o.first_observed) = 'text' AND o.first_observed > :p1)
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_ts = 'ts'
--   :p1 = '2024-12-01T00:00:00.000Z'
