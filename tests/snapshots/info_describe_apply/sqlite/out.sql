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

--    2 | INFO procs
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
-- INFO procs (line 2)
-- no SQL: reads procs's row of the variables table (type, counts, birth statement, data source, inputs)
-- the attribute names are the columns of DISP procs, which INFO runs in full when procs is not empty
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

--    3 | a = procs ATTR name, pid
-- a = procs (line 3)
-- a holds entities
-- ATTR name, pid: a's default DISP columns (no SQL)
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

--    4 | INFO a
-- INFO a (line 4)
-- no SQL: reads a's row of the variables table (type, counts, birth statement, data source, inputs); attributes: name, pid

--    5 | g = GROUP procs BY name WITH COUNT(pid)
-- g = GROUP procs (line 5)
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

--    6 | INFO g
-- INFO g (line 6)
-- no SQL: reads g's row of the variables table (type, counts, birth statement, data source, inputs); attributes: name, count_pid

--    7 | DESCRIBE procs.pid
-- DESCRIBE procs.pid (line 7)
-- the statistics (count, mean, min, max for numbers; count, unique, top, freq otherwise) are computed in Python over the values below
-- columns: pid
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."pid"'
--   :cid = 1
--   :var_procs = 'procs'

--    8 | DESCRIBE procs.binary_ref.name
-- DESCRIBE procs.binary_ref.name (line 8)
-- the statistics (count, mean, min, max for numbers; count, unique, top, freq otherwise) are computed in Python over the values below
-- columns: binary_ref.name
-- rows that are all NULL and repeated rows are dropped in Python
SELECT (
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
--   :p0 = '$."name"'
--   :p1 = 'binary_ref'
--   :cid = 1
--   :var_procs = 'procs'

--    9 | APPLY docker://domainnamelookup ON procs
-- APPLY docker://domainnamelookup ON procs (line 9)
-- no query: the analytic runs in Python on the variables' rows (read as DISP reads them); the attributes it returns are written back by entity id
-- procs holds processes: APPLY adds to its rows x_connection_count and x_child_count, the network-traffic and the processes each one CREATED (what FIND network-traffic CREATED BY procs and FIND process CREATED BY procs walk)
SELECT
  e.id,
  (
    SELECT COUNT(DISTINCT t.eid)
    FROM edges g
    JOIN entities t ON t.eid = g.dst AND t.type = :p0
    WHERE
      g.src = e.eid
      AND g.rel IN (:p1)
  ),
  (
    SELECT COUNT(DISTINCT t.eid)
    FROM edges g
    JOIN entities t ON t.eid = g.src AND t.type = :p2
    WHERE
      g.dst = e.eid
      AND g.rel IN (:p3)
  )
FROM (
  SELECT DISTINCT eid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
) v
JOIN entities e ON e.eid = v.eid AND e.type = :p2
ORDER BY e.id;
-- params:
--   :p0 = 'network-traffic'
--   :p1 = 'opened_connection_refs'
--   :p2 = 'process'
--   :p3 = 'parent_ref'
--   :cid = 1
--   :var_procs = 'procs'
-- ... and x_written_files, the paths of the files its events (x-oca-event process_ref) created, changed or deleted (stixgraph.analytics.activity picks those from these rows)
SELECT
  e.id,
  json_extract(ev.props, :p2),
  json_extract(ev.props, :p3),
  json_extract(ev.props, :p4),
  json_extract(ev.props, :p5),
  json_extract(f.props, :p6),
  (
    SELECT json_extract(d.props, :p0)
    FROM edges gd
    JOIN entities d ON d.eid = gd.dst
    WHERE
      gd.src = f.eid
      AND gd.rel = :p1
    ORDER BY d.eid
    LIMIT 1
  )
FROM (
  SELECT DISTINCT eid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
) v
JOIN entities e ON e.eid = v.eid AND e.type = :p8
JOIN edges gp ON gp.dst = e.eid AND gp.rel = :p9
JOIN entities ev ON ev.eid = gp.src AND ev.type = :p10
JOIN edges gf ON gf.src = ev.eid AND gf.rel = :p11
JOIN entities f ON f.eid = gf.dst AND f.type = :p12
WHERE NOT EXISTS (SELECT 1 FROM edges gb WHERE gb.src = e.eid AND gb.rel = :p13 AND gb.dst = f.eid)
ORDER BY e.id, json_extract(ev.props, :p14), ev.id, f.id;
-- params:
--   :p2 = '$."code"'
--   :p3 = '$."action"'
--   :p4 = '$."module"'
--   :p5 = '$."provider"'
--   :p6 = '$."name"'
--   :p0 = '$."path"'
--   :p1 = 'parent_directory_ref'
--   :cid = 1
--   :var_procs = 'procs'
--   :p8 = 'process'
--   :p9 = 'process_ref'
--   :p10 = 'x-oca-event'
--   :p11 = 'file_ref'
--   :p12 = 'file'
--   :p13 = 'binary_ref'
--   :p14 = '$."created"'

--   10 | APPLY python://plot ON procs, a WITH X=1
-- APPLY python://plot ON procs, a (line 10)
-- no query: the analytic runs in Python on the variables' rows (read as DISP reads them); the attributes it returns are written back by entity id
-- procs holds processes: APPLY adds to its rows x_connection_count and x_child_count, the network-traffic and the processes each one CREATED (what FIND network-traffic CREATED BY procs and FIND process CREATED BY procs walk)
SELECT
  e.id,
  (
    SELECT COUNT(DISTINCT t.eid)
    FROM edges g
    JOIN entities t ON t.eid = g.dst AND t.type = :p0
    WHERE
      g.src = e.eid
      AND g.rel IN (:p1)
  ),
  (
    SELECT COUNT(DISTINCT t.eid)
    FROM edges g
    JOIN entities t ON t.eid = g.src AND t.type = :p2
    WHERE
      g.dst = e.eid
      AND g.rel IN (:p3)
  )
FROM (
  SELECT DISTINCT eid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
) v
JOIN entities e ON e.eid = v.eid AND e.type = :p2
ORDER BY e.id;
-- params:
--   :p0 = 'network-traffic'
--   :p1 = 'opened_connection_refs'
--   :p2 = 'process'
--   :p3 = 'parent_ref'
--   :cid = 1
--   :var_procs = 'procs'
-- ... and x_written_files, the paths of the files its events (x-oca-event process_ref) created, changed or deleted (stixgraph.analytics.activity picks those from these rows)
SELECT
  e.id,
  json_extract(ev.props, :p2),
  json_extract(ev.props, :p3),
  json_extract(ev.props, :p4),
  json_extract(ev.props, :p5),
  json_extract(f.props, :p6),
  (
    SELECT json_extract(d.props, :p0)
    FROM edges gd
    JOIN entities d ON d.eid = gd.dst
    WHERE
      gd.src = f.eid
      AND gd.rel = :p1
    ORDER BY d.eid
    LIMIT 1
  )
FROM (
  SELECT DISTINCT eid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
) v
JOIN entities e ON e.eid = v.eid AND e.type = :p8
JOIN edges gp ON gp.dst = e.eid AND gp.rel = :p9
JOIN entities ev ON ev.eid = gp.src AND ev.type = :p10
JOIN edges gf ON gf.src = ev.eid AND gf.rel = :p11
JOIN entities f ON f.eid = gf.dst AND f.type = :p12
WHERE NOT EXISTS (SELECT 1 FROM edges gb WHERE gb.src = e.eid AND gb.rel = :p13 AND gb.dst = f.eid)
ORDER BY e.id, json_extract(ev.props, :p14), ev.id, f.id;
-- params:
--   :p2 = '$."code"'
--   :p3 = '$."action"'
--   :p4 = '$."module"'
--   :p5 = '$."provider"'
--   :p6 = '$."name"'
--   :p0 = '$."path"'
--   :p1 = 'parent_directory_ref'
--   :cid = 1
--   :var_procs = 'procs'
--   :p8 = 'process'
--   :p9 = 'process_ref'
--   :p10 = 'x-oca-event'
--   :p11 = 'file_ref'
--   :p12 = 'file'
--   :p13 = 'binary_ref'
--   :p14 = '$."created"'
-- a holds processes: APPLY adds to its rows x_connection_count and x_child_count, the network-traffic and the processes each one CREATED (what FIND network-traffic CREATED BY a and FIND process CREATED BY a walk)
SELECT
  e.id,
  (
    SELECT COUNT(DISTINCT t.eid)
    FROM edges g
    JOIN entities t ON t.eid = g.dst AND t.type = :p0
    WHERE
      g.src = e.eid
      AND g.rel IN (:p1)
  ),
  (
    SELECT COUNT(DISTINCT t.eid)
    FROM edges g
    JOIN entities t ON t.eid = g.src AND t.type = :p2
    WHERE
      g.dst = e.eid
      AND g.rel IN (:p3)
  )
FROM (
  SELECT DISTINCT eid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
) v
JOIN entities e ON e.eid = v.eid AND e.type = :p2
ORDER BY e.id;
-- params:
--   :p0 = 'network-traffic'
--   :p1 = 'opened_connection_refs'
--   :p2 = 'process'
--   :p3 = 'parent_ref'
--   :cid = 1
--   :var_a = 'a'
-- ... and x_written_files, the paths of the files its events (x-oca-event process_ref) created, changed or deleted (stixgraph.analytics.activity picks those from these rows)
SELECT
  e.id,
  json_extract(ev.props, :p2),
  json_extract(ev.props, :p3),
  json_extract(ev.props, :p4),
  json_extract(ev.props, :p5),
  json_extract(f.props, :p6),
  (
    SELECT json_extract(d.props, :p0)
    FROM edges gd
    JOIN entities d ON d.eid = gd.dst
    WHERE
      gd.src = f.eid
      AND gd.rel = :p1
    ORDER BY d.eid
    LIMIT 1
  )
FROM (
  SELECT DISTINCT eid
  FROM var_rows
  WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
) v
JOIN entities e ON e.eid = v.eid AND e.type = :p8
JOIN edges gp ON gp.dst = e.eid AND gp.rel = :p9
JOIN entities ev ON ev.eid = gp.src AND ev.type = :p10
JOIN edges gf ON gf.src = ev.eid AND gf.rel = :p11
JOIN entities f ON f.eid = gf.dst AND f.type = :p12
WHERE NOT EXISTS (SELECT 1 FROM edges gb WHERE gb.src = e.eid AND gb.rel = :p13 AND gb.dst = f.eid)
ORDER BY e.id, json_extract(ev.props, :p14), ev.id, f.id;
-- params:
--   :p2 = '$."code"'
--   :p3 = '$."action"'
--   :p4 = '$."module"'
--   :p5 = '$."provider"'
--   :p6 = '$."name"'
--   :p0 = '$."path"'
--   :p1 = 'parent_directory_ref'
--   :cid = 1
--   :var_a = 'a'
--   :p8 = 'process'
--   :p9 = 'process_ref'
--   :p10 = 'x-oca-event'
--   :p11 = 'file_ref'
--   :p12 = 'file'
--   :p13 = 'binary_ref'
--   :p14 = '$."created"'

--   11 | APPLY python://plot ON nope
-- APPLY python://plot ON nope (line 11)
-- fails at run time: unknown variable 'nope'
