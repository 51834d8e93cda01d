--    1 | a = GET process FROM stixshifter://splunk
--    2 |     WHERE name = 'cmd.exe' AND x-oca-asset:hostname = 'WindowsTarget'
--    3 |     START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z LIMIT 100
-- a = GET process FROM stixshifter://splunk (line 1)
-- data source stixshifter://splunk receives the STIX pattern:
--   [(process:name = 'cmd.exe' AND x-oca-asset:hostname = 'WindowsTarget')] START t'2024-12-01T00:00:00.000Z' STOP t'2024-12-24T00:00:00.000Z'
-- time range: START 2024-12-01T00:00:00.000Z STOP 2024-12-24T00:00:00.000Z
-- LIMIT 100: passed to the data source, not applied below
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
  AND (
    CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p3) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p4)
    ) ELSE (typeof(json_extract(e.props, :p2)) = 'text' AND json_extract(e.props, :p2) = :p5) END
    AND EXISTS (
      SELECT 1
      FROM contains xc
      JOIN contains xo ON xo.oid = xc.oid
      JOIN entities x ON x.eid = xo.eid
      WHERE
        xc.eid = e.eid
        AND xc.oid IN (SELECT oid FROM query_obs WHERE qid = :qid)
        AND xo.etype = :p6
        AND CASE json_type(x.props, :p8) WHEN 'array' THEN EXISTS (
          SELECT 1
          FROM json_each(x.props, :p8) l0
          WHERE (typeof(l0.value) = 'text' AND l0.value = :p9)
        ) ELSE (
          typeof(json_extract(x.props, :p7)) = 'text'
          AND json_extract(x.props, :p7) = :p10
        ) END
    )
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'process'
--   :p3 = '$."name"'
--   :p4 = 'cmd.exe'
--   :p2 = '$."name"'
--   :p5 = 'cmd.exe'
--   :p6 = 'x-oca-asset'
--   :p8 = '$."hostname"'
--   :p9 = 'WindowsTarget'
--   :p7 = '$."hostname"'
--   :p10 = 'WindowsTarget'

--    4 | b = GET network-traffic WHERE dst_port = 443 LAST 2 HOURS
-- b = GET network-traffic FROM (previous source) (line 4)
-- the data source of the previous GET receives the STIX pattern:
--   [network-traffic:dst_port = 443]
-- time range: LAST 2 hours before the clock at run time (the pattern then ends with that START/STOP)
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
  AND CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p3) l0
    WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p4 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p5 END)
  ) ELSE (CASE WHEN typeof(json_extract(e.props, :p2)) IN ('integer', 'real') THEN json_extract(e.props, :p2) = :p6 WHEN typeof(json_extract(e.props, :p2)) = 'text' THEN sg_num(json_extract(e.props, :p2)) = :p7 END) END
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'network-traffic'
--   :p3 = '$."dst_port"'
--   :p4 = 443
--   :p5 = 443
--   :p2 = '$."dst_port"'
--   :p6 = 443
--   :p7 = 443

--    5 | c = GET file FROM stixshifter://splunk WHERE [file:hashes.'SHA-256' = 'abc' OR file:size > 1000]
-- c = GET file FROM stixshifter://splunk (line 5)
-- data source stixshifter://splunk receives the STIX pattern:
--   [(file:hashes.'SHA-256' = 'abc' OR file:size > 1000)]
-- time range: none
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
  AND (
    CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p3) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p4)
    ) ELSE (typeof(json_extract(e.props, :p2)) = 'text' AND json_extract(e.props, :p2) = :p5) END
    OR CASE json_type(e.props, :p7) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p7) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p8 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p9 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p6)) IN ('integer', 'real') THEN json_extract(e.props, :p6) > :p10 WHEN typeof(json_extract(e.props, :p6)) = 'text' THEN sg_num(json_extract(e.props, :p6)) > :p11 END) END
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'file'
--   :p3 = '$."hashes"."SHA-256"'
--   :p4 = 'abc'
--   :p2 = '$."hashes"."SHA-256"'
--   :p5 = 'abc'
--   :p7 = '$."size"'
--   :p8 = 1000
--   :p9 = 1000
--   :p6 = '$."size"'
--   :p10 = 1000
--   :p11 = 1000

--    6 | d = GET x-custom-thing FROM file:///tmp/bundle.json WHERE x_a IS NOT NULL
-- d = GET x-custom-thing FROM file:///tmp/bundle.json (line 6)
-- data source file:///tmp/bundle.json receives the STIX pattern:
--   [EXISTS x-custom-thing:x_a]
-- time range: none
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
  AND json_extract(e.props, :p2) IS NOT NULL
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'x-custom-thing'
--   :p2 = '$."x_a"'
