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

--    2 | DISP procs ATTR name, pid, binary_ref.name, parent_ref.binary_ref.name
-- DISP procs (line 2)
-- columns: name, pid, binary_ref.name, parent_ref.binary_ref.name
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
  ),
  (
    SELECT (
      SELECT json_extract(t1.props, :p0)
      FROM edges g1
      JOIN entities t1 ON t1.eid = g1.dst
      WHERE
        g1.src = t0.eid
        AND g1.rel = :p2
      ORDER BY t1.eid
      LIMIT 1
    )
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p3
    ORDER BY t0.eid
    LIMIT 1
  )
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."pid"'
--   :p2 = 'binary_ref'
--   :p3 = 'parent_ref'
--   :cid = 1
--   :var_procs = 'procs'

--    3 | DISP procs
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
-- DISP procs (line 3)
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
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."<column>"'
--   :p1 = '<name>_ref'
--   :cid = 1
--   :var_procs = 'procs'

--    4 | DISP procs WHERE pid > 4 ATTR name SORT BY pid ASC LIMIT 10 OFFSET 5
-- DISP procs (line 4)
-- columns: name
-- rows that are all NULL and repeated rows are dropped in Python, then OFFSET and LIMIT are applied
SELECT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p2) l0
    WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p3 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p3 END)
  ) ELSE (CASE WHEN typeof(json_extract(e.props, :p2)) IN ('integer', 'real') THEN json_extract(e.props, :p2) > :p3 WHEN typeof(json_extract(e.props, :p2)) = 'text' THEN sg_num(json_extract(e.props, :p2)) > :p3 END) END
ORDER BY json_extract(e.props, :p2) IS NULL, json_extract(e.props, :p2) ASC, v.rid;
-- params:
--   :p0 = '$."name"'
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."pid"'
--   :p3 = 4

--    5 | DISP procs ATTR hashes.'SHA-256', x_list[*], x_list[1]
-- DISP procs (line 5)
-- columns: hashes.SHA-256, x_list[*], x_list[1]
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0), json_extract(e.props, :p1), json_extract(e.props, :p2)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."hashes"."SHA-256"'
--   :p1 = '$."x_list"[0]'
--   :p2 = '$."x_list"[1]'
--   :cid = 1
--   :var_procs = 'procs'

--    6 | DISP procs ATTR file:name
-- DISP procs (line 6)
-- fails at run time: attribute file:name does not belong to process
