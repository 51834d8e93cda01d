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

--    2 | a = GROUP procs BY name
-- GROUP without WITH: the attributes of procs and their JSON types
SELECT j.key, j.type
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
GROUP BY j.key, j.type
ORDER BY MIN(v.rid * 1048576 + j.id);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
-- the attribute names of procs (the aggregated columns)
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
-- a = GROUP procs (line 2)
-- without WITH the column list is decided at run time: one aggregate per attribute found above except id, type and the keys (SUM number_observed, MIN first_observed/start, MAX last_observed/end, NUNIQUE ports and pids, AVG other numbers, NUNIQUE the rest); shown with one placeholder column
-- the rows are stored as a table (JSON per row)
SELECT k0, COUNT(DISTINCT a0)
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
--   :p1 = '$."<column>"'
--   :cid = 1
--   :var_procs = 'procs'

--    3 | DISP a
-- DISP a (line 3)
-- a is a table: columns decided when it was made
SELECT data
FROM var_rows
WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
ORDER BY rid;
-- params:
--   :cid = 1
--   :var_a = 'a'

--    4 | DISP a ATTR name
-- DISP a (line 4)
-- a is a table: columns name (each must be one of its columns)
SELECT data
FROM var_rows
WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
ORDER BY rid;
-- params:
--   :cid = 1
--   :var_a = 'a'

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

--    6 | b = GROUP ts BY BIN(first_observed, 5 minutes)
-- GROUP without WITH: the attributes of ts and their JSON types
SELECT j.key, j.type
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
GROUP BY j.key, j.type
ORDER BY MIN(v.rid * 1048576 + j.id);
-- params:
--   :cid = 1
--   :var_ts = 'ts'
-- the attribute names of ts (the aggregated columns)
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts);
-- params:
--   :cid = 1
--   :var_ts = 'ts'
-- b = GROUP ts (line 6)
-- without WITH the column list is decided at run time: one aggregate per attribute found above except id, type and the keys (SUM number_observed, MIN first_observed/start, MAX last_observed/end, NUNIQUE ports and pids, AVG other numbers, NUNIQUE the rest); shown with one placeholder column
-- the rows are stored as a table (JSON per row)
SELECT k0, COUNT(DISTINCT a0)
FROM (
  SELECT sg_bin_time(o.first_observed, :p0) AS k0, json_extract(e.props, :p1) AS a0
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  LEFT JOIN observations o ON o.oid = v.oid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
)
GROUP BY k0
ORDER BY k0;
-- params:
--   :p0 = 300
--   :p1 = '$."<column>"'
--   :cid = 1
--   :var_ts = 'ts'
