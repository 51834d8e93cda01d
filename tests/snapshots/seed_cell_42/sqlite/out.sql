--    4 | procs = GET process FROM stixshifter://splunk
--    5 | WHERE [process:binary_ref.name MATCHES '.+\.(exe|dll|bat)$' AND process:binary_ref.name != 'powershell.exe'] START t'2024-12-01T00:00:00Z' STOP t'2024-12-24T00:00:00Z'
-- procs = GET process FROM stixshifter://splunk (line 4)
-- data source stixshifter://splunk receives the STIX pattern:
--   [(process:binary_ref.name MATCHES '.+\\.(exe|dll|bat)$' AND process:binary_ref.name != 'powershell.exe')] START t'2024-12-01T00:00:00.000Z' STOP t'2024-12-24T00:00:00.000Z'
-- time range: START 2024-12-01T00:00:00.000Z STOP 2024-12-24T00:00:00.000Z
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
  AND (
    EXISTS (
      SELECT 1
      FROM edges h0
      JOIN entities r0 ON r0.eid = h0.dst
      WHERE
        h0.src = e.eid
        AND h0.rel = :p4
        AND CASE json_type(r0.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(r0.props, :p2) l1 WHERE sg_matches(:p3, l1.value)) ELSE sg_matches(
          :p3,
          json_extract(r0.props, :p2)
        ) END
    )
    AND EXISTS (
      SELECT 1
      FROM edges h0
      JOIN entities r0 ON r0.eid = h0.dst
      WHERE
        h0.src = e.eid
        AND h0.rel = :p4
        AND CASE json_type(r0.props, :p2) WHEN 'array' THEN EXISTS (
          SELECT 1
          FROM json_each(r0.props, :p2) l1
          WHERE (l1.value IS NOT NULL AND NOT (typeof(l1.value) = 'text' AND l1.value = :p5))
        ) ELSE (
          json_extract(r0.props, :p2) IS NOT NULL
          AND NOT (
            typeof(json_extract(r0.props, :p2)) = 'text'
            AND json_extract(r0.props, :p2) = :p5
          )
        ) END
    )
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'process'
--   :p4 = 'binary_ref'
--   :p2 = '$."name"'
--   :p3 = '.+\\.(exe|dll|bat)$'
--   :p5 = 'powershell.exe'

--    7 | APPLY docker://susp_scoring ON procs
-- APPLY docker://susp_scoring ON procs (line 7)
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

--   10 | procs_desc = SORT procs BY x_suspicious_score DESC
-- procs_desc = SORT procs BY x_suspicious_score DESC (line 10)
-- procs_desc holds entities
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
--   :p1 = '$."x_suspicious_score"'

--   12 | procs_sus = GET process FROM procs WHERE x_suspicious_score > 0.9
-- procs_sus = GET process FROM procs (line 12)
-- GET from variable procs: a filter of its rows, nothing is fetched
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p1) l0
    WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p2 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p2 END)
  ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) > :p2 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) > :p2 END) END
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."x_suspicious_score"'
--   :p2 = 0.9

--   13 | DISP procs_sus ATTR name, command_line, x_suspicious_score
-- DISP procs_sus (line 13)
-- columns: name, command_line, x_suspicious_score
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0), json_extract(e.props, :p1), json_extract(e.props, :p2)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs_sus)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."command_line"'
--   :p2 = '$."x_suspicious_score"'
--   :cid = 1
--   :var_procs_sus = 'procs_sus'
