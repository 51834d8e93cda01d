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

--    2 | a = GROUP procs BY name WITH COUNT(pid) AS n, NUNIQUE(command_line), MIN(created), MAX(created), SUM(x_score), AVG(x_score)
-- a = GROUP procs (line 2)
-- columns: name, n, nunique_command_line, min_created, max_created, sum_x_score, avg_x_score
-- the rows are stored as a table (JSON per row)
SELECT k0, COUNT(a0), COUNT(DISTINCT a1), MIN(a2), MAX(a3), SUM(a4), AVG(a5)
FROM (
  SELECT
    json_extract(e.props, :p0) AS k0,
    json_extract(e.props, :p1) AS a0,
    json_extract(e.props, :p2) AS a1,
    json_extract(e.props, :p3) AS a2,
    json_extract(e.props, :p3) AS a3,
    json_extract(e.props, :p4) AS a4,
    json_extract(e.props, :p4) AS a5
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
)
GROUP BY k0
ORDER BY k0;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."pid"'
--   :p2 = '$."command_line"'
--   :p3 = '$."created"'
--   :p4 = '$."x_score"'
--   :cid = 1
--   :var_procs = 'procs'

--    3 | b = GROUP procs BY name, binary_ref.name WITH COUNT(pid)
-- b = GROUP procs (line 3)
-- columns: name, binary_ref.name, count_pid
-- the rows are stored as a table (JSON per row)
SELECT k0, k1, COUNT(a0)
FROM (
  SELECT
    json_extract(e.props, :p0) AS k0,
    (
      SELECT json_extract(t0.props, :p0)
      FROM edges g0
      JOIN entities t0 ON t0.eid = g0.dst
      WHERE
        g0.src = e.eid
        AND g0.rel = :p1
      ORDER BY t0.eid
      LIMIT 1
    ) AS k1,
    json_extract(e.props, :p2) AS a0
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
)
GROUP BY k0, k1
ORDER BY k0, k1;
-- params:
--   :p0 = '$."name"'
--   :p1 = 'binary_ref'
--   :p2 = '$."pid"'
--   :cid = 1
--   :var_procs = 'procs'

--    4 | c = GROUP procs BY BIN(pid, 100) WITH COUNT(pid)
-- c = GROUP procs (line 4)
-- columns: pid_bin, count_pid
-- the rows are stored as a table (JSON per row)
SELECT k0, COUNT(a0)
FROM (
  SELECT
    (CAST(json_extract(e.props, :p0) / :p1 AS INTEGER) * :p1) AS k0,
    json_extract(e.props, :p0) AS a0
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
)
GROUP BY k0
ORDER BY k0;
-- params:
--   :p0 = '$."pid"'
--   :p1 = 100
--   :cid = 1
--   :var_procs = 'procs'

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

--    6 | d = GROUP ts BY BIN(first_observed, 1h), name WITH COUNT(pid) AS n, MAX(last_observed)
-- d = GROUP ts (line 6)
-- columns: first_observed_bin, name, n, max_last_observed
-- the rows are stored as a table (JSON per row)
SELECT k0, k1, COUNT(a0), MAX(a1)
FROM (
  SELECT
    sg_bin_time(o.first_observed, :p0) AS k0,
    json_extract(e.props, :p1) AS k1,
    json_extract(e.props, :p2) AS a0,
    o.last_observed AS a1
  FROM var_rows v
  JOIN entities e ON e.eid = v.eid
  LEFT JOIN observations o ON o.oid = v.oid
  WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ts)
)
GROUP BY k0, k1
ORDER BY k0, k1;
-- params:
--   :p0 = 3600
--   :p1 = '$."name"'
--   :p2 = '$."pid"'
--   :cid = 1
--   :var_ts = 'ts'

--    7 | DISP d
-- DISP d (line 7)
-- d is a table: columns first_observed_bin, name, n, max_last_observed
SELECT data
FROM var_rows
WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_d)
ORDER BY rid;
-- params:
--   :cid = 1
--   :var_d = 'd'

--    8 | DISP d ATTR n SORT BY n DESC LIMIT 3
-- DISP d (line 8)
-- d is a table: columns n (each must be one of its columns)
-- SORT BY, LIMIT and OFFSET are applied in Python to the rows
SELECT data
FROM var_rows
WHERE vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_d)
ORDER BY rid;
-- params:
--   :cid = 1
--   :var_d = 'd'

--    9 | DISP d WHERE n > 1
-- DISP d (line 9)
-- fails at run time: WHERE on a GROUP result is not supported; filter before GROUP
