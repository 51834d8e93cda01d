--    2 | procs_exfil = GET process FROM "stixshifter://splunk" WHERE command_line LIKE '%StageDir%' LAST 10 DAYS
-- procs_exfil = GET process FROM stixshifter://splunk (line 2)
-- data source stixshifter://splunk receives the STIX pattern:
--   [process:command_line LIKE '%StageDir%']
-- time range: LAST 10 days before the clock at run time (the pattern then ends with that START/STOP)
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
  AND CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p2) l0 WHERE l0.value LIKE :p3) ELSE json_extract(
    e.props,
    :p2
  ) LIKE :p3 END
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'process'
--   :p2 = '$."command_line"'
--   :p3 = '%StageDir%'

--    4 | DISP procs_exfil ATTR pid, command_line
-- DISP procs_exfil (line 4)
-- columns: pid, command_line
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0), json_extract(e.props, :p1)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs_exfil)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."pid"'
--   :p1 = '$."command_line"'
--   :cid = 1
--   :var_procs_exfil = 'procs_exfil'

--    7 | parent_procs_exfil = FIND process CREATED procs_exfil
-- parent_procs_exfil = FIND process CREATED procs_exfil (line 7)
-- edge: procs_exfil --parent_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs_exfil)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_procs_exfil = 'procs_exfil'
--   :p1 = 'parent_ref'
--   :p2 = 'process'

--   12 | aggr = GROUP parent_procs_exfil BY name
-- GROUP without WITH: the attributes of parent_procs_exfil and their JSON types
SELECT j.key, j.type
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_parent_procs_exfil)
GROUP BY j.key, j.type
ORDER BY MIN(v.rid * 1048576 + j.id);
-- params:
--   :cid = 1
--   :var_parent_procs_exfil = 'parent_procs_exfil'
-- the attribute names of parent_procs_exfil (the aggregated columns)
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_parent_procs_exfil);
-- params:
--   :cid = 1
--   :var_parent_procs_exfil = 'parent_procs_exfil'
-- aggr = GROUP parent_procs_exfil (line 12)
-- without WITH the column list is decided at run time: one aggregate per attribute found above except id, type and the keys (SUM number_observed, MIN first_observed/start, MAX last_observed/end, NUNIQUE ports and pids, AVG other numbers, NUNIQUE the rest); shown with one placeholder column
-- the rows are stored as a table (JSON per row)
SELECT k0, COUNT(DISTINCT a0)
FROM (
  SELECT json_extract(e.props, :p0) AS k0, json_extract(e.props, :p1) AS a0
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_parent_procs_exfil)
)
GROUP BY k0
ORDER BY k0;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."<column>"'
--   :cid = 1
--   :var_parent_procs_exfil = 'parent_procs_exfil'

--   13 | DISP aggr ATTR unique_name, unique_pid, unique_command_line
-- DISP aggr (line 13)
-- aggr is a table: columns unique_name, unique_pid, unique_command_line (each must be one of its columns)
SELECT data
FROM var_rows
WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_aggr)
ORDER BY rid;
-- params:
--   :cid = 1
--   :var_aggr = 'aggr'

--   16 | nt_exfil = FIND network-traffic CREATED BY procs_exfil
-- nt_exfil = FIND network-traffic CREATED BY procs_exfil (line 16)
-- edge: procs_exfil --opened_connection_refs--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs_exfil)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_procs_exfil = 'procs_exfil'
--   :p1 = 'opened_connection_refs'
--   :p2 = 'network-traffic'

--   18 | nt_exfil_ts = TIMESTAMPED(nt_exfil)
-- nt_exfil_ts = TIMESTAMPED(nt_exfil) (line 18)
-- nt_exfil_ts holds records (one row per entity and observation)
SELECT eid, oid
FROM (
  SELECT v.eid AS eid, c.oid AS oid
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  JOIN contains c ON c.eid = v.eid
  JOIN observations o ON o.oid = c.oid
  WHERE
    v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt_exfil)
    AND 1
  ORDER BY o.first_observed, v.rid, c.oid
);
-- params:
--   :cid = 1
--   :var_nt_exfil = 'nt_exfil'

--   20 | DISP nt_exfil_ts ATTR protocols, src_ref.value, src_port, dst_ref.value, dst_port
-- DISP nt_exfil_ts (line 20)
-- columns: protocols, src_ref.value, src_port, dst_ref.value, dst_port
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  json_extract(e.props, :p0),
  (
    SELECT json_extract(t0.props, :p1)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p2
    ORDER BY t0.eid
    LIMIT 1
  ),
  json_extract(e.props, :p3),
  (
    SELECT json_extract(t0.props, :p1)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p4
    ORDER BY t0.eid
    LIMIT 1
  ),
  json_extract(e.props, :p5)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
LEFT JOIN observations o ON o.oid = v.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt_exfil_ts)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."protocols"'
--   :p1 = '$."value"'
--   :p2 = 'src_ref'
--   :p3 = '$."src_port"'
--   :p4 = 'dst_ref'
--   :p5 = '$."dst_port"'
--   :cid = 1
--   :var_nt_exfil_ts = 'nt_exfil_ts'

--   23 | APPLY python://attribute-plot ON nt_exfil_ts WITH XPARAM=x_direction
-- APPLY python://attribute-plot ON nt_exfil_ts (line 23)
-- no query: the analytic runs in Python on the variables' rows (read as DISP reads them); the attributes it returns are written back by entity id
