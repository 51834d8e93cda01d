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

--    2 | ts = TIMESTAMPED(procs)
-- ts = TIMESTAMPED(procs) (line 2)
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

--    3 | rec = RECORDS(procs) WHERE pid > 4
-- rec = RECORDS(procs) (line 3)
-- rec holds records (one row per entity and observation)
SELECT eid, oid
FROM (
  SELECT v.eid AS eid, c.oid AS oid
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  JOIN contains c ON c.eid = v.eid
  JOIN observations o ON o.oid = c.oid
  WHERE
    v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p2 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p2 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) > :p2 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) > :p2 END) END
  ORDER BY o.first_observed, v.rid, c.oid
);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."pid"'
--   :p2 = 4

--    4 | obs = ADDOBSID(procs) WHERE name = 'x' SORT BY pid LIMIT 2
-- obs = ADDOBSID(procs) (line 4)
-- obs holds records (one row per entity and observation)
-- SORT BY is not applied when a transform is given
SELECT b.eid AS eid, b.oid AS oid
FROM (
  SELECT v.eid AS eid, c.oid AS oid
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  JOIN contains c ON c.eid = v.eid
  JOIN observations o ON o.oid = c.oid
  WHERE
    v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p2)
    ) ELSE (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p2) END
  ORDER BY o.first_observed, v.rid, c.oid
) b
JOIN entities e ON e.eid = b.eid
JOIN observations o ON o.oid = b.oid
ORDER BY json_extract(e.props, :p3) IS NULL, json_extract(e.props, :p3) DESC, b.eid, b.oid
LIMIT :p4
OFFSET :p5;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = 'x'
--   :p3 = '$."pid"'
--   :p4 = 2
--   :p5 = 0

--    5 | late = ts WHERE name = 'x' SORT BY first_observed DESC LIMIT 5
-- late = ts (line 5)
-- late holds records (one row per entity and observation)
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
  AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p1) l0
    WHERE (typeof(l0.value) = 'text' AND l0.value = :p2)
  ) ELSE (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p2) END
ORDER BY o.first_observed IS NULL, o.first_observed DESC, v.rid
LIMIT :p3
OFFSET :p4;
-- params:
--   :cid = 1
--   :var_ts = 'ts'
--   :p1 = '$."name"'
--   :p2 = 'x'
--   :p3 = 5
--   :p4 = 0

--    6 | ts2 = TIMESTAMPED(ts)
-- ts2 = TIMESTAMPED(ts) (line 6)
-- ts2 holds records (one row per entity and observation)
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
  AND 1
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_ts = 'ts'
