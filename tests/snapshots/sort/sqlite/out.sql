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

--    2 | a = SORT procs BY pid
-- a = SORT procs BY pid DESC (line 2)
-- a holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY json_extract(e.props, :p1) IS NULL, json_extract(e.props, :p1) DESC, v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."pid"'

--    3 | b = SORT procs BY pid ASC
-- b = SORT procs BY pid ASC (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY json_extract(e.props, :p1) IS NULL, json_extract(e.props, :p1) ASC, v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."pid"'

--    4 | c = SORT procs BY binary_ref.name DESC
-- c = SORT procs BY binary_ref.name DESC (line 4)
-- c holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY
  (
    SELECT json_extract(t0.props, :p1)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p2
    ORDER BY t0.eid
    LIMIT 1
  ) IS NULL,
  (
    SELECT json_extract(t0.props, :p1)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p2
    ORDER BY t0.eid
    LIMIT 1
  ) DESC,
  v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = 'binary_ref'

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

--    6 | d = SORT ts BY first_observed ASC
-- d = SORT ts BY first_observed ASC (line 6)
-- d holds records (one row per entity and observation)
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
  AND 1
ORDER BY o.first_observed IS NULL, o.first_observed ASC, v.rid;
-- params:
--   :cid = 1
--   :var_ts = 'ts'
