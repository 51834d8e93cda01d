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

--    2 | a = procs WHERE pid = 4 AND pid != '8' AND pid < 10 AND pid <= 10.5 AND pid > -1 AND pid >= 0
-- a = procs (line 2)
-- a holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    json_extract(e.props, :p1) = :p2
    AND NOT (json_extract(e.props, :p3) IN (:p4, :p5))
    AND json_extract(e.props, :p6) < :p7
    AND json_extract(e.props, :p8) <= :p9
    AND json_extract(e.props, :p10) > :p11
    AND json_extract(e.props, :p12) >= :p13
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."pid"'
--   :p2 = 4
--   :p3 = '$."pid"'
--   :p4 = 8
--   :p5 = '8'
--   :p6 = '$."pid"'
--   :p7 = 10
--   :p8 = '$."pid"'
--   :p9 = 10.5
--   :p10 = '$."pid"'
--   :p11 = -1
--   :p12 = '$."pid"'
--   :p13 = 0

--    3 | b = procs WHERE name IN ('a', 'b', 3) OR name NOT IN ['c'] OR name LIKE 'cmd%' OR name NOT LIKE '%.dll'
-- b = procs (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    json_extract(e.props, :p1) IN (:p2, :p3, :p4)
    OR (json_extract(e.props, :p5) IS NOT NULL AND NOT (json_extract(e.props, :p5) IN (:p6)))
    OR json_extract(e.props, :p7) LIKE :p8
    OR (json_extract(e.props, :p9) IS NOT NULL AND NOT (json_extract(e.props, :p9) LIKE :p10))
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = 'a'
--   :p3 = 'b'
--   :p4 = 3
--   :p5 = '$."name"'
--   :p6 = 'c'
--   :p7 = '$."name"'
--   :p8 = 'cmd%'
--   :p9 = '$."name"'
--   :p10 = '%.dll'

--    4 | c = procs WHERE command_line MATCHES r'\bnet(stat)?\b' OR command_line NOT MATCHES '^x'
-- c = procs (line 4)
-- c holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    sg_matches(:p2, json_extract(e.props, :p1))
    OR (
      json_extract(e.props, :p3) IS NOT NULL
      AND NOT (sg_matches(:p4, json_extract(e.props, :p3)))
    )
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '\\bnet(stat)?\\b'
--   :p1 = '$."command_line"'
--   :p3 = '$."command_line"'
--   :p4 = '^x'

--    5 | d = procs WHERE x_ip ISSUBSET '10.0.0.0/8' AND x_net NOT ISSUPERSET '10.1.2.3'
-- d = procs (line 5)
-- d holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    sg_in_subnet(json_extract(e.props, :p1), :p2)
    AND (
      json_extract(e.props, :p3) IS NOT NULL
      AND NOT (sg_in_subnet(:p4, json_extract(e.props, :p3)))
    )
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."x_ip"'
--   :p2 = '10.0.0.0/8'
--   :p3 = '$."x_net"'
--   :p4 = '10.1.2.3'

--    6 | e = procs WHERE name IS NULL OR pid IS NOT NULL OR x_flag = true OR x_flag = FALSE
-- e = procs (line 6)
-- e holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    json_extract(e.props, :p1) IS NULL
    OR json_extract(e.props, :p2) IS NOT NULL
    OR json_extract(e.props, :p3) = :p4
    OR json_extract(e.props, :p5) = :p6
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = '$."pid"'
--   :p3 = '$."x_flag"'
--   :p4 = 1
--   :p5 = '$."x_flag"'
--   :p6 = 0

--    7 | f = procs WHERE created > t'2024-12-01T00:00:00Z' AND created <= 2024-12-02T00:00:00Z
-- f = procs (line 7)
-- f holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (json_extract(e.props, :p1) > :p2 AND json_extract(e.props, :p3) <= :p4)
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."created"'
--   :p2 = '2024-12-01T00:00:00.000Z'
--   :p3 = '$."created"'
--   :p4 = '2024-12-02T00:00:00.000Z'
