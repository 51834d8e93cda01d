--    1 | exfil_cmd = GET process FROM stixshifter://splunk
--    2 | WHERE command_line LIKE '%StagedFiles.7z%'
--    3 | LAST 15 DAYS
-- exfil_cmd = GET process FROM stixshifter://splunk (line 1)
-- data source stixshifter://splunk receives the STIX pattern:
--   [process:command_line LIKE '%StagedFiles.7z%']
-- time range: LAST 15 days before the clock at run time (the pattern then ends with that START/STOP)
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
--   :p3 = '%StagedFiles.7z%'

--    5 | DISP TIMESTAMPED(exfil_cmd) ATTR pid, name, command_line
-- DISP TIMESTAMPED(exfil_cmd) (line 5)
-- columns: first_observed, pid, name, command_line
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  o.first_observed,
  json_extract(e.props, :p0),
  json_extract(e.props, :p1),
  json_extract(e.props, :p2)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
JOIN contains c ON c.eid = v.eid
JOIN observations o ON o.oid = c.oid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_exfil_cmd)
  AND 1
ORDER BY o.first_observed, v.rid, c.oid;
-- params:
--   :p0 = '$."pid"'
--   :p1 = '$."name"'
--   :p2 = '$."command_line"'
--   :cid = 1
--   :var_exfil_cmd = 'exfil_cmd'
