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
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p2) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p3)
    ) ELSE (typeof(json_extract(e.props, :p2)) = 'text' AND json_extract(e.props, :p2) = :p3) END
    AND EXISTS (
      SELECT 1
      FROM contains xc
      JOIN contains xo ON xo.oid = xc.oid
      JOIN entities x ON x.eid = xo.eid
      WHERE
        xc.eid = e.eid
        AND xc.oid IN (SELECT oid FROM query_obs WHERE qid = :qid)
        AND xo.etype = :p4
        AND CASE json_type(x.props, :p5) WHEN 'array' THEN EXISTS (
          SELECT 1
          FROM json_each(x.props, :p5) l0
          WHERE (typeof(l0.value) = 'text' AND l0.value = :p6)
        ) ELSE (
          typeof(json_extract(x.props, :p5)) = 'text'
          AND json_extract(x.props, :p5) = :p6
        ) END
    )
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'process'
--   :p2 = '$."name"'
--   :p3 = 'cmd.exe'
--   :p4 = 'x-oca-asset'
--   :p5 = '$."hostname"'
--   :p6 = 'WindowsTarget'

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
  AND CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p2) l0
    WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p3 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p3 END)
  ) ELSE (CASE WHEN typeof(json_extract(e.props, :p2)) IN ('integer', 'real') THEN json_extract(e.props, :p2) = :p3 WHEN typeof(json_extract(e.props, :p2)) = 'text' THEN sg_num(json_extract(e.props, :p2)) = :p3 END) END
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'network-traffic'
--   :p2 = '$."dst_port"'
--   :p3 = 443

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
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p2) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p3)
    ) ELSE (typeof(json_extract(e.props, :p2)) = 'text' AND json_extract(e.props, :p2) = :p3) END
    OR CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p4) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p5 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p5 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p4)) IN ('integer', 'real') THEN json_extract(e.props, :p4) > :p5 WHEN typeof(json_extract(e.props, :p4)) = 'text' THEN sg_num(json_extract(e.props, :p4)) > :p5 END) END
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'file'
--   :p2 = '$."hashes"."SHA-256"'
--   :p3 = 'abc'
--   :p4 = '$."size"'
--   :p5 = 1000

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
