--    1 | nt = GET network-traffic
--    2 |      FROM stixshifter://splunk
--    3 |      WHERE dst_ref.value NOT LIKE '10.%' AND dst_port = '443' AND network-traffic:protocols[*] = 'ip'
--    4 |      LAST 15 DAYS
-- nt = GET network-traffic FROM stixshifter://splunk (line 1)
-- data source stixshifter://splunk receives the STIX pattern:
--   [((network-traffic:dst_ref.value NOT LIKE '10.%' AND network-traffic:dst_port = '443') AND network-traffic:protocols[*] = 'ip')]
-- time range: LAST 15 days before the clock at run time (the pattern then ends with that START/STOP)
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
        AND CASE json_type(r0.props, :p2) WHEN 'array' THEN EXISTS (
          SELECT 1
          FROM json_each(r0.props, :p2) l1
          WHERE (l1.value IS NOT NULL AND NOT (l1.value LIKE :p3))
        ) ELSE (
          json_extract(r0.props, :p2) IS NOT NULL
          AND NOT (json_extract(r0.props, :p2) LIKE :p3)
        ) END
    )
    AND CASE json_type(e.props, :p5) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p5) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p6 WHEN typeof(l0.value) = 'text' THEN l0.value = :p7 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p5)) IN ('integer', 'real') THEN json_extract(e.props, :p5) = :p6 WHEN typeof(json_extract(e.props, :p5)) = 'text' THEN json_extract(e.props, :p5) = :p7 END) END
    AND EXISTS (
      SELECT 1
      FROM json_each(e.props, :p8) j0
      WHERE (typeof(j0.value) = 'text' AND j0.value = :p9)
    )
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'network-traffic'
--   :p4 = 'dst_ref'
--   :p2 = '$."value"'
--   :p3 = '10.%'
--   :p5 = '$."dst_port"'
--   :p6 = 443
--   :p7 = '443'
--   :p8 = '$."protocols"'
--   :p9 = 'ip'

--    8 | APPLY docker://domainnamelookup ON nt
-- APPLY docker://domainnamelookup ON nt (line 8)
-- no query: the analytic runs in Python on the variables' rows (read as DISP reads them); the attributes it returns are written back by entity id

--   10 | DISP nt ATTR src_ref.value, src_port, dst_ref.value, dst_port, x_domain_name, x_domain_organization
-- DISP nt (line 10)
-- columns: src_ref.value, src_port, dst_ref.value, dst_port, x_domain_name, x_domain_organization
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p1
    ORDER BY t0.eid
    LIMIT 1
  ),
  json_extract(e.props, :p2),
  (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p3
    ORDER BY t0.eid
    LIMIT 1
  ),
  json_extract(e.props, :p4),
  json_extract(e.props, :p5),
  json_extract(e.props, :p6)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."value"'
--   :p1 = 'src_ref'
--   :p2 = '$."src_port"'
--   :p3 = 'dst_ref'
--   :p4 = '$."dst_port"'
--   :p5 = '$."x_domain_name"'
--   :p6 = '$."x_domain_organization"'
--   :cid = 1
--   :var_nt = 'nt'

--   12 | ips = FIND ipv4-addr LINKED nt WHERE value != '10.0.0.5'
-- ips = FIND ipv4-addr LINKED nt (line 12)
-- LINKED: ipv4-addr objects in the same observations as nt's
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT c2.eid AS eid
    FROM var_rows v
    JOIN contains c1 ON c1.eid = v.eid
    JOIN contains c2 ON c2.oid = c1.oid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
      AND c2.etype = :p1
  )
  AND e.type = :p1
  AND CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p2) l0
    WHERE (l0.value IS NOT NULL AND NOT (typeof(l0.value) = 'text' AND l0.value = :p3))
  ) ELSE (
    json_extract(e.props, :p2) IS NOT NULL
    AND NOT (typeof(json_extract(e.props, :p2)) = 'text' AND json_extract(e.props, :p2) = :p3)
  ) END
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_nt = 'nt'
--   :p1 = 'ipv4-addr'
--   :p2 = '$."value"'
--   :p3 = '10.0.0.5'

--   14 | procs = FIND process CREATED nt
--   15 |         WHERE x-oca-asset:hostname = 'WindowsTarget'
-- procs = FIND process CREATED nt (line 14)
-- edge: result --opened_connection_refs--> nt
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND EXISTS (
    SELECT 1
    FROM contains xc
    JOIN contains xo ON xo.oid = xc.oid
    JOIN entities x ON x.eid = xo.eid
    WHERE
      xc.eid = e.eid
      AND xo.etype = :p3
      AND CASE json_type(x.props, :p4) WHEN 'array' THEN EXISTS (
        SELECT 1
        FROM json_each(x.props, :p4) l0
        WHERE (typeof(l0.value) = 'text' AND l0.value = :p5)
      ) ELSE (typeof(json_extract(x.props, :p4)) = 'text' AND json_extract(x.props, :p4) = :p5) END
  )
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_nt = 'nt'
--   :p1 = 'opened_connection_refs'
--   :p2 = 'process'
--   :p3 = 'x-oca-asset'
--   :p4 = '$."hostname"'
--   :p5 = 'WindowsTarget'

--   16 | DISP procs ATTR x_original_file_name, command_line
-- DISP procs (line 16)
-- columns: x_original_file_name, command_line
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0), json_extract(e.props, :p1)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."x_original_file_name"'
--   :p1 = '$."command_line"'
--   :cid = 1
--   :var_procs = 'procs'

--   18 | users = FIND user-account OWNED procs
-- users = FIND user-account OWNED procs (line 18)
-- edge: procs --creator_user_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 'creator_user_ref'
--   :p2 = 'user-account'

--   19 | DISP users ATTR user_id
-- DISP users (line 19)
-- columns: user_id
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_users)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."user_id"'
--   :cid = 1
--   :var_users = 'users'

--   22 | files = FIND file LINKED procs
-- files = FIND file LINKED procs (line 22)
-- LINKED: file objects in the same observations as procs's
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT c2.eid AS eid
    FROM var_rows v
    JOIN contains c1 ON c1.eid = v.eid
    JOIN contains c2 ON c2.oid = c1.oid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
      AND c2.etype = :p1
  )
  AND e.type = :p1
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 'file'

--   23 | DISP files ATTR name, parent_directory_ref.path
-- DISP files (line 23)
-- columns: name, parent_directory_ref.path
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
  )
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_files)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."name"'
--   :p1 = '$."path"'
--   :p2 = 'parent_directory_ref'
--   :cid = 1
--   :var_files = 'files'
