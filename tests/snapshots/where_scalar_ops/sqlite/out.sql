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
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p2) l0 WHERE l0.value = :p3) ELSE json_extract(
      e.props,
      :p1
    ) = :p4 END
    AND CASE json_type(e.props, :p6) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p6) l0 WHERE NOT (l0.value IN (:p7, :p8))) ELSE NOT (json_extract(e.props, :p5) IN (:p9, :p10)) END
    AND CASE json_type(e.props, :p12) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p12) l0 WHERE l0.value < :p13) ELSE json_extract(
      e.props,
      :p11
    ) < :p14 END
    AND CASE json_type(e.props, :p16) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p16) l0 WHERE l0.value <= :p17) ELSE json_extract(
      e.props,
      :p15
    ) <= :p18 END
    AND CASE json_type(e.props, :p20) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p20) l0 WHERE l0.value > :p21) ELSE json_extract(
      e.props,
      :p19
    ) > :p22 END
    AND CASE json_type(e.props, :p24) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p24) l0 WHERE l0.value >= :p25) ELSE json_extract(
      e.props,
      :p23
    ) >= :p26 END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."pid"'
--   :p3 = 4
--   :p1 = '$."pid"'
--   :p4 = 4
--   :p6 = '$."pid"'
--   :p7 = 8
--   :p8 = '8'
--   :p5 = '$."pid"'
--   :p9 = 8
--   :p10 = '8'
--   :p12 = '$."pid"'
--   :p13 = 10
--   :p11 = '$."pid"'
--   :p14 = 10
--   :p16 = '$."pid"'
--   :p17 = 10.5
--   :p15 = '$."pid"'
--   :p18 = 10.5
--   :p20 = '$."pid"'
--   :p21 = -1
--   :p19 = '$."pid"'
--   :p22 = -1
--   :p24 = '$."pid"'
--   :p25 = 0
--   :p23 = '$."pid"'
--   :p26 = 0

--    3 | b = procs WHERE name IN ('a', 'b', 3) OR name NOT IN ['c'] OR name LIKE 'cmd%' OR name NOT LIKE '%.dll'
-- b = procs (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p2) l0 WHERE l0.value IN (:p3, :p4, :p5)) ELSE json_extract(
      e.props,
      :p1
    ) IN (:p6, :p7, :p8) END
    OR CASE json_type(e.props, :p10) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p10) l0
      WHERE (l0.value IS NOT NULL AND NOT (l0.value IN (:p11)))
    ) ELSE (
      json_extract(e.props, :p9) IS NOT NULL
      AND NOT (json_extract(e.props, :p9) IN (:p12))
    ) END
    OR CASE json_type(e.props, :p14) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p14) l0 WHERE l0.value LIKE :p15) ELSE json_extract(
      e.props,
      :p13
    ) LIKE :p16 END
    OR CASE json_type(e.props, :p18) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p18) l0
      WHERE (l0.value IS NOT NULL AND NOT (l0.value LIKE :p19))
    ) ELSE (
      json_extract(e.props, :p17) IS NOT NULL
      AND NOT (json_extract(e.props, :p17) LIKE :p20)
    ) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."name"'
--   :p3 = 'a'
--   :p4 = 'b'
--   :p5 = 3
--   :p1 = '$."name"'
--   :p6 = 'a'
--   :p7 = 'b'
--   :p8 = 3
--   :p10 = '$."name"'
--   :p11 = 'c'
--   :p9 = '$."name"'
--   :p12 = 'c'
--   :p14 = '$."name"'
--   :p15 = 'cmd%'
--   :p13 = '$."name"'
--   :p16 = 'cmd%'
--   :p18 = '$."name"'
--   :p19 = '%.dll'
--   :p17 = '$."name"'
--   :p20 = '%.dll'

--    4 | c = procs WHERE command_line MATCHES r'\bnet(stat)?\b' OR command_line NOT MATCHES '^x'
-- c = procs (line 4)
-- c holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p2) l0 WHERE sg_matches(:p3, l0.value)) ELSE sg_matches(
      :p4,
      json_extract(e.props, :p1)
    ) END
    OR CASE json_type(e.props, :p6) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p6) l0
      WHERE (l0.value IS NOT NULL AND NOT (sg_matches(:p7, l0.value)))
    ) ELSE (
      json_extract(e.props, :p5) IS NOT NULL
      AND NOT (sg_matches(:p8, json_extract(e.props, :p5)))
    ) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."command_line"'
--   :p3 = '\\bnet(stat)?\\b'
--   :p4 = '\\bnet(stat)?\\b'
--   :p1 = '$."command_line"'
--   :p6 = '$."command_line"'
--   :p7 = '^x'
--   :p5 = '$."command_line"'
--   :p8 = '^x'

--    5 | d = procs WHERE x_ip ISSUBSET '10.0.0.0/8' AND x_net NOT ISSUPERSET '10.1.2.3'
-- d = procs (line 5)
-- d holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p2) l0 WHERE sg_in_subnet(l0.value, :p3)) ELSE sg_in_subnet(
      json_extract(e.props, :p1),
      :p4
    ) END
    AND CASE json_type(e.props, :p6) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p6) l0
      WHERE (l0.value IS NOT NULL AND NOT (sg_in_subnet(:p7, l0.value)))
    ) ELSE (
      json_extract(e.props, :p5) IS NOT NULL
      AND NOT (sg_in_subnet(:p8, json_extract(e.props, :p5)))
    ) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."x_ip"'
--   :p3 = '10.0.0.0/8'
--   :p1 = '$."x_ip"'
--   :p4 = '10.0.0.0/8'
--   :p6 = '$."x_net"'
--   :p7 = '10.1.2.3'
--   :p5 = '$."x_net"'
--   :p8 = '10.1.2.3'

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
    OR CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p4) l0 WHERE l0.value = :p5) ELSE json_extract(
      e.props,
      :p3
    ) = :p6 END
    OR CASE json_type(e.props, :p8) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p8) l0 WHERE l0.value = :p9) ELSE json_extract(
      e.props,
      :p7
    ) = :p10 END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = '$."pid"'
--   :p4 = '$."x_flag"'
--   :p5 = 1
--   :p3 = '$."x_flag"'
--   :p6 = 1
--   :p8 = '$."x_flag"'
--   :p9 = 0
--   :p7 = '$."x_flag"'
--   :p10 = 0

--    7 | f = procs WHERE created > t'2024-12-01T00:00:00Z' AND created <= 2024-12-02T00:00:00Z
-- f = procs (line 7)
-- f holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p2) l0 WHERE l0.value > :p3) ELSE json_extract(
      e.props,
      :p1
    ) > :p4 END
    AND CASE json_type(e.props, :p6) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p6) l0 WHERE l0.value <= :p7) ELSE json_extract(
      e.props,
      :p5
    ) <= :p8 END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."created"'
--   :p3 = '2024-12-01T00:00:00.000Z'
--   :p1 = '$."created"'
--   :p4 = '2024-12-01T00:00:00.000Z'
--   :p6 = '$."created"'
--   :p7 = '2024-12-02T00:00:00.000Z'
--   :p5 = '$."created"'
--   :p8 = '2024-12-02T00:00:00.000Z'
