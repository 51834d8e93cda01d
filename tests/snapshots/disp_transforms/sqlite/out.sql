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

--    2 | DISP TIMESTAMPED(procs) ATTR name, pid
-- DISP TIMESTAMPED(procs) (line 2)
-- columns: first_observed, name, pid
-- rows that are all NULL and repeated rows are dropped in Python
SELECT o.first_observed, json_extract(e.props, :p0), json_extract(e.props, :p1)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN contains c ON c.eid = v.eid
JOIN observations o ON o.oid = c.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY o.first_observed, v.rid, c.oid;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."pid"'
--   :cid = 1
--   :var_procs = 'procs'

--    3 | DISP RECORDS(procs)
-- the attribute names of procs's entities
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
-- for each *_ref attribute found: the attribute names of the objects it points to
SELECT DISTINCT j.key
FROM var_rows v
JOIN edges g ON g.src = v.eid AND g.rel = :p0
JOIN entities t ON t.eid = g.dst, json_each(t.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs);
-- params:
--   :p0 = '<name>_ref'
--   :cid = 1
--   :var_procs = 'procs'
-- DISP RECORDS(procs) (line 3)
-- without ATTR the columns are decided at run time from the data: id, every other attribute (sorted), then <ref>.<attribute> for each *_ref; shown with placeholders
-- columns: number_observed, first_observed, last_observed, observation_id, id, <column>, <name>_ref.<column>
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  o.number_observed,
  o.first_observed,
  o.last_observed,
  o.id,
  e.id,
  json_extract(e.props, :p0),
  (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p1
    ORDER BY t0.eid
    LIMIT 1
  )
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN contains c ON c.eid = v.eid
JOIN observations o ON o.oid = c.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY o.first_observed, v.rid, c.oid;
-- params:
--   :p0 = '$."<column>"'
--   :p1 = '<name>_ref'
--   :cid = 1
--   :var_procs = 'procs'

--    4 | DISP ADDOBSID(procs) WHERE name = 'x' ATTR name SORT BY first_observed ASC
-- DISP ADDOBSID(procs) (line 4)
-- columns: observation_id, name
-- rows that are all NULL and repeated rows are dropped in Python
SELECT o.id, json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN contains c ON c.eid = v.eid
JOIN observations o ON o.oid = c.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND CASE json_type(e.props, :p0) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p0) l0
    WHERE (typeof(l0.value) = 'text' AND l0.value = :p2)
  ) ELSE (typeof(json_extract(e.props, :p0)) = 'text' AND json_extract(e.props, :p0) = :p2) END
ORDER BY o.first_observed IS NULL, o.first_observed ASC, v.rid;
-- params:
--   :p0 = '$."name"'
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = 'x'

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

--    6 | DISP ts
-- the attribute names of ts's entities
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts);
-- params:
--   :cid = 1
--   :var_ts = 'ts'
-- for each *_ref attribute found: the attribute names of the objects it points to
SELECT DISTINCT j.key
FROM var_rows v
JOIN edges g ON g.src = v.eid AND g.rel = :p0
JOIN entities t ON t.eid = g.dst, json_each(t.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts);
-- params:
--   :p0 = '<name>_ref'
--   :cid = 1
--   :var_ts = 'ts'
-- DISP ts (line 6)
-- without ATTR the columns are decided at run time from the data: id, every other attribute (sorted), then <ref>.<attribute> for each *_ref; shown with placeholders
-- columns: id, <column>, <name>_ref.<column>
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  e.id,
  json_extract(e.props, :p0),
  (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p1
    ORDER BY t0.eid
    LIMIT 1
  )
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."<column>"'
--   :p1 = '<name>_ref'
--   :cid = 1
--   :var_ts = 'ts'

--    7 | DISP ts ATTR first_observed, name SORT BY first_observed
-- DISP ts (line 7)
-- columns: first_observed, name
-- rows that are all NULL and repeated rows are dropped in Python
SELECT o.first_observed, json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
  AND 1
ORDER BY o.first_observed IS NULL, o.first_observed DESC, v.rid;
-- params:
--   :p0 = '$."name"'
--   :cid = 1
--   :var_ts = 'ts'
