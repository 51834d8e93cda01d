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

--    2 | other = NEW process ["b.exe"]
-- other = NEW process (line 2)
-- no query compiled for the data: 1 item(s) become process objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then other is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | nt = NEW network-traffic [{"dst_port": 443}]
-- nt = NEW network-traffic (line 3)
-- no query compiled for the data: 1 item(s) become network-traffic objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then nt is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | a = JOIN procs, other
-- the attribute names of procs
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
-- the attribute names of other
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_other);
-- params:
--   :cid = 1
--   :var_other = 'other'
-- a = JOIN procs, other (line 4)
-- the columns copied from other into data are decided at run time: its attributes that procs lacks (shown as one placeholder <column>)
-- the result holds process entities of procs
SELECT v.eid AS eid, json_object(:p0, json_extract(f.props, :p1)) AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN var_rows w ON w.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_other)
JOIN entities f ON f.eid = w.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND e.id = f.id
ORDER BY v.rid, w.rid;
-- params:
--   :p0 = '<column>'
--   :p1 = '$."<column>"'
--   :cid = 1
--   :var_other = 'other'
--   :var_procs = 'procs'

--    5 | b = JOIN procs, nt BY pid, src_port
-- the attribute names of procs
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
-- the attribute names of nt
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt);
-- params:
--   :cid = 1
--   :var_nt = 'nt'
-- b = JOIN procs, nt (line 5)
-- the columns copied from nt into data are decided at run time: its attributes that procs lacks (shown as one placeholder <column>)
-- the result holds process entities of procs
SELECT v.eid AS eid, json_object(:p2, json_extract(f.props, :p3)) AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN var_rows w ON w.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
JOIN entities f ON f.eid = w.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND json_extract(e.props, :p1) = json_extract(f.props, :p0)
ORDER BY v.rid, w.rid;
-- params:
--   :p2 = '<column>'
--   :p3 = '$."<column>"'
--   :cid = 1
--   :var_nt = 'nt'
--   :var_procs = 'procs'
--   :p1 = '$."pid"'
--   :p0 = '$."src_port"'

--    6 | c = JOIN procs, nt BY binary_ref.name, dst_ref.value
-- the attribute names of procs
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs);
-- params:
--   :cid = 1
--   :var_procs = 'procs'
-- the attribute names of nt
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt);
-- params:
--   :cid = 1
--   :var_nt = 'nt'
-- c = JOIN procs, nt (line 6)
-- the columns copied from nt into data are decided at run time: its attributes that procs lacks (shown as one placeholder <column>)
-- the result holds process entities of procs
SELECT v.eid AS eid, json_object(:p4, json_extract(f.props, :p5)) AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN var_rows w ON w.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
JOIN entities f ON f.eid = w.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    SELECT json_extract(t0.props, :p2)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p3
    ORDER BY t0.eid
    LIMIT 1
  ) = (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = f.eid
      AND g0.rel = :p1
    ORDER BY t0.eid
    LIMIT 1
  )
ORDER BY v.rid, w.rid;
-- params:
--   :p4 = '<column>'
--   :p5 = '$."<column>"'
--   :cid = 1
--   :var_nt = 'nt'
--   :var_procs = 'procs'
--   :p2 = '$."name"'
--   :p3 = 'binary_ref'
--   :p0 = '$."value"'
--   :p1 = 'dst_ref'

--    7 | DISP a
-- the attribute names of a's entities
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a);
-- params:
--   :cid = 1
--   :var_a = 'a'
-- for each *_ref attribute found: the attribute names of the objects it points to
SELECT DISTINCT j.key
FROM var_rows v
JOIN edges g ON g.src = v.eid AND g.rel = :p0
JOIN entities t ON t.eid = g.dst, json_each(t.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a);
-- params:
--   :p0 = '<name>_ref'
--   :cid = 1
--   :var_a = 'a'
-- DISP a (line 7)
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
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."<column>"'
--   :p1 = '<name>_ref'
--   :cid = 1
--   :var_a = 'a'
