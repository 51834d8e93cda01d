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

--    2 | a = procs WHERE name = 'cmd.exe' SORT BY pid ASC LIMIT 5 OFFSET 2
-- a = procs (line 2)
-- a holds entities
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
ORDER BY json_extract(e.props, :p3) IS NULL, json_extract(e.props, :p3) ASC, v.rid
LIMIT :p4
OFFSET :p5;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = 'cmd.exe'
--   :p3 = '$."pid"'
--   :p4 = 5
--   :p5 = 2

--    3 | b = procs OFFSET 3
-- b = procs (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid
LIMIT :p1
OFFSET :p2;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = -1
--   :p2 = 3

--    4 | c = procs LIMIT 3
-- c = procs (line 4)
-- c holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid
LIMIT :p1
OFFSET :p2;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 3
--   :p2 = 0

--    5 | d = procs ATTR name, pid, binary_ref.name
-- d = procs (line 5)
-- d holds entities
-- ATTR name, pid, binary_ref.name: d's default DISP columns (no SQL)
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'

--    6 | DISP d
-- DISP d (line 6)
-- no ATTR: d's default columns (from the ATTR that made it)
-- columns: name, pid, binary_ref.name
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  json_extract(e.props, :p0),
  json_extract(e.props, :p1),
  (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p2
    ORDER BY t0.eid
    LIMIT 1
  )
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_d)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."pid"'
--   :p2 = 'binary_ref'
--   :cid = 1
--   :var_d = 'd'

--    7 | e = procs WHERE binary_ref.name = 'x' SORT BY binary_ref.name
-- e = procs (line 7)
-- e holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND EXISTS (
    SELECT 1
    FROM edges h0
    JOIN entities r0 ON r0.eid = h0.dst
    WHERE
      h0.src = e.eid
      AND h0.rel = :p3
      AND CASE json_type(r0.props, :p1) WHEN 'array' THEN EXISTS (
        SELECT 1
        FROM json_each(r0.props, :p1) l1
        WHERE (typeof(l1.value) = 'text' AND l1.value = :p2)
      ) ELSE (
        typeof(json_extract(r0.props, :p1)) = 'text'
        AND json_extract(r0.props, :p1) = :p2
      ) END
  )
ORDER BY
  (
    SELECT json_extract(t0.props, :p1)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p3
    ORDER BY t0.eid
    LIMIT 1
  ) IS NULL,
  (
    SELECT json_extract(t0.props, :p1)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p3
    ORDER BY t0.eid
    LIMIT 1
  ) DESC,
  v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p3 = 'binary_ref'
--   :p1 = '$."name"'
--   :p2 = 'x'
