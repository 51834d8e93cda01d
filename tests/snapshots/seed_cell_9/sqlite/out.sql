--    2 | t1016_instances = GET process
--    3 |                   FROM stixshifter://splunk
--    4 |                   WHERE name = 'cmd.exe' AND (command_line LIKE '%netsh%' OR command_line LIKE '%ipconfig%' OR command_line LIKE '%arp%')
--    5 |                   START 2024-12-01T00:00:00Z STOP 2024-12-24T00:00:00Z
-- t1016_instances = GET process FROM stixshifter://splunk (line 2)
-- data source stixshifter://splunk receives the STIX pattern:
--   [(process:name = 'cmd.exe' AND ((process:command_line LIKE '%netsh%' OR process:command_line LIKE '%ipconfig%') OR process:command_line LIKE '%arp%'))] START t'2024-12-01T00:00:00.000Z' STOP t'2024-12-24T00:00:00.000Z'
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
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p2) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p3)
    ) ELSE (typeof(json_extract(e.props, :p2)) = 'text' AND json_extract(e.props, :p2) = :p3) END
    AND (
      CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p4) l0 WHERE l0.value LIKE :p5) ELSE json_extract(
        e.props,
        :p4
      ) LIKE :p5 END
      OR CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p4) l0 WHERE l0.value LIKE :p6) ELSE json_extract(
        e.props,
        :p4
      ) LIKE :p6 END
      OR CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p4) l0 WHERE l0.value LIKE :p7) ELSE json_extract(
        e.props,
        :p4
      ) LIKE :p7 END
    )
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'process'
--   :p2 = '$."name"'
--   :p3 = 'cmd.exe'
--   :p4 = '$."command_line"'
--   :p5 = '%netsh%'
--   :p6 = '%ipconfig%'
--   :p7 = '%arp%'

--    7 | DISP t1016_instances ATTR pid, name, command_line
-- DISP t1016_instances (line 7)
-- columns: pid, name, command_line
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0), json_extract(e.props, :p1), json_extract(e.props, :p2)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_t1016_instances)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."pid"'
--   :p1 = '$."name"'
--   :p2 = '$."command_line"'
--   :cid = 1
--   :var_t1016_instances = 't1016_instances'
