--    1 | ips = NEW ipv4-addr ["198.51.100.7", "203.0.113.9"]
-- ips = NEW ipv4-addr (line 1)
-- no query compiled for the data: 2 item(s) become ipv4-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ips is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | nt = GET network-traffic FROM stixshifter://splunk WHERE dst_ref.value = ips.value
-- values of ips.value, read before the statement runs (one value compares with =, several with IN)
SELECT DISTINCT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ips)
  AND json_extract(e.props, :p0) IS NOT NULL;
-- params:
--   :p0 = '$."value"'
--   :cid = 1
--   :var_ips = 'ips'
-- time range of ips's observations (for GET's time range)
SELECT MIN(o.first_observed), MAX(o.last_observed)
FROM var_rows v
JOIN contains c ON c.eid = v.eid
JOIN observations o ON o.oid = c.oid
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ips);
-- params:
--   :cid = 1
--   :var_ips = 'ips'
-- nt = GET network-traffic FROM stixshifter://splunk (line 2)
-- data source stixshifter://splunk receives the STIX pattern:
--   [network-traffic:dst_ref.value IN ('<values of ips.value>')]
-- time range: the referenced variables' observation time range, widened by 5 minutes each side (the pattern then ends with that START/STOP)
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
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
        WHERE ((typeof(l1.value) = 'text' AND l1.value = :p3))
      ) ELSE ((typeof(json_extract(r0.props, :p2)) = 'text' AND json_extract(r0.props, :p2) = :p3)) END
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'network-traffic'
--   :p4 = 'dst_ref'
--   :p2 = '$."value"'
--   :p3 = '<values of ips.value>'

--    3 | nt2 = GET network-traffic FROM nt WHERE dst_ref.value != ips.value AND src_port IN (ips.x_port, 80)
-- values of ips.value, read before the statement runs (one value compares with =, several with IN)
SELECT DISTINCT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ips)
  AND json_extract(e.props, :p0) IS NOT NULL;
-- params:
--   :p0 = '$."value"'
--   :cid = 1
--   :var_ips = 'ips'
-- values of ips.x_port, read before the statement runs (one value compares with =, several with IN)
SELECT DISTINCT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ips)
  AND json_extract(e.props, :p0) IS NOT NULL;
-- params:
--   :p0 = '$."x_port"'
--   :cid = 1
--   :var_ips = 'ips'
-- nt2 = GET network-traffic FROM nt (line 3)
-- GET from variable nt: a filter of its rows, nothing is fetched
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
  AND (
    EXISTS (
      SELECT 1
      FROM edges h0
      JOIN entities r0 ON r0.eid = h0.dst
      WHERE
        h0.src = e.eid
        AND h0.rel = :p3
        AND CASE json_type(r0.props, :p1) WHEN 'array' THEN EXISTS (
          SELECT 1
          FROM json_each(r0.props, :p1) l1
          WHERE (l1.value IS NOT NULL AND NOT ((typeof(l1.value) = 'text' AND l1.value = :p2)))
        ) ELSE (
          json_extract(r0.props, :p1) IS NOT NULL
          AND NOT ((typeof(json_extract(r0.props, :p1)) = 'text' AND json_extract(r0.props, :p1) = :p2))
        ) END
    )
    AND CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p4) l0
      WHERE (
        (typeof(l0.value) = 'text' AND l0.value = :p5)
        OR (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p6 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p6 END)
      )
    ) ELSE (
      (typeof(json_extract(e.props, :p4)) = 'text' AND json_extract(e.props, :p4) = :p5)
      OR (CASE WHEN typeof(json_extract(e.props, :p4)) IN ('integer', 'real') THEN json_extract(e.props, :p4) = :p6 WHEN typeof(json_extract(e.props, :p4)) = 'text' THEN sg_num(json_extract(e.props, :p4)) = :p6 END)
    ) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_nt = 'nt'
--   :p3 = 'dst_ref'
--   :p1 = '$."value"'
--   :p2 = '<values of ips.value>'
--   :p4 = '$."src_port"'
--   :p5 = '<values of ips.x_port>'
--   :p6 = 80

--    4 | nt3 = GET network-traffic FROM stixshifter://splunk WHERE dst_ref.value IN ips.value LAST 1 DAY
-- values of ips.value, read before the statement runs (one value compares with =, several with IN)
SELECT DISTINCT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ips)
  AND json_extract(e.props, :p0) IS NOT NULL;
-- params:
--   :p0 = '$."value"'
--   :cid = 1
--   :var_ips = 'ips'
-- nt3 = GET network-traffic FROM stixshifter://splunk (line 4)
-- data source stixshifter://splunk receives the STIX pattern:
--   [network-traffic:dst_ref.value IN ('<values of ips.value>')]
-- time range: LAST 1 days before the clock at run time (the pattern then ends with that START/STOP)
-- its observations are stored (entities, edges, contains, query_obs); then the variable is:
SELECT DISTINCT e.eid AS eid
FROM query_obs q
JOIN contains c ON c.oid = q.oid
JOIN entities e ON e.eid = c.eid
WHERE
  q.qid = :qid
  AND c.etype = :p1
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
        WHERE ((typeof(l1.value) = 'text' AND l1.value = :p3))
      ) ELSE ((typeof(json_extract(r0.props, :p2)) = 'text' AND json_extract(r0.props, :p2) = :p3)) END
  )
ORDER BY e.eid;
-- params:
--   :qid = '<query id>'
--   :p1 = 'network-traffic'
--   :p4 = 'dst_ref'
--   :p2 = '$."value"'
--   :p3 = '<values of ips.value>'
