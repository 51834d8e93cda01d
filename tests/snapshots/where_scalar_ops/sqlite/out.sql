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
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p2) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p3 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p4 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) = :p5 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) = :p6 END) END
    AND CASE json_type(e.props, :p8) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p8) l0
      WHERE (
        l0.value IS NOT NULL
        AND NOT (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p9 WHEN typeof(l0.value) = 'text' THEN l0.value = :p10 END)
      )
    ) ELSE (
      json_extract(e.props, :p7) IS NOT NULL
      AND NOT (CASE WHEN typeof(json_extract(e.props, :p7)) IN ('integer', 'real') THEN json_extract(e.props, :p7) = :p11 WHEN typeof(json_extract(e.props, :p7)) = 'text' THEN json_extract(e.props, :p7) = :p12 END)
    ) END
    AND CASE json_type(e.props, :p14) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p14) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value < :p15 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) < :p16 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p13)) IN ('integer', 'real') THEN json_extract(e.props, :p13) < :p17 WHEN typeof(json_extract(e.props, :p13)) = 'text' THEN sg_num(json_extract(e.props, :p13)) < :p18 END) END
    AND CASE json_type(e.props, :p20) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p20) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value <= :p21 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) <= :p22 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p19)) IN ('integer', 'real') THEN json_extract(e.props, :p19) <= :p23 WHEN typeof(json_extract(e.props, :p19)) = 'text' THEN sg_num(json_extract(e.props, :p19)) <= :p24 END) END
    AND CASE json_type(e.props, :p26) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p26) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p27 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p28 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p25)) IN ('integer', 'real') THEN json_extract(e.props, :p25) > :p29 WHEN typeof(json_extract(e.props, :p25)) = 'text' THEN sg_num(json_extract(e.props, :p25)) > :p30 END) END
    AND CASE json_type(e.props, :p32) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p32) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value >= :p33 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) >= :p34 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p31)) IN ('integer', 'real') THEN json_extract(e.props, :p31) >= :p35 WHEN typeof(json_extract(e.props, :p31)) = 'text' THEN sg_num(json_extract(e.props, :p31)) >= :p36 END) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = '$."pid"'
--   :p3 = 4
--   :p4 = 4
--   :p1 = '$."pid"'
--   :p5 = 4
--   :p6 = 4
--   :p8 = '$."pid"'
--   :p9 = 8
--   :p10 = '8'
--   :p7 = '$."pid"'
--   :p11 = 8
--   :p12 = '8'
--   :p14 = '$."pid"'
--   :p15 = 10
--   :p16 = 10
--   :p13 = '$."pid"'
--   :p17 = 10
--   :p18 = 10
--   :p20 = '$."pid"'
--   :p21 = 10.5
--   :p22 = 10.5
--   :p19 = '$."pid"'
--   :p23 = 10.5
--   :p24 = 10.5
--   :p26 = '$."pid"'
--   :p27 = -1
--   :p28 = -1
--   :p25 = '$."pid"'
--   :p29 = -1
--   :p30 = -1
--   :p32 = '$."pid"'
--   :p33 = 0
--   :p34 = 0
--   :p31 = '$."pid"'
--   :p35 = 0
--   :p36 = 0

--    3 | b = procs WHERE name IN ('a', 'b', 3) OR name NOT IN ['c'] OR name LIKE 'cmd%' OR name NOT LIKE '%.dll'
-- b = procs (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p2) l0
      WHERE (
        (typeof(l0.value) = 'text' AND l0.value = :p3)
        OR (typeof(l0.value) = 'text' AND l0.value = :p4)
        OR (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p5 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p6 END)
      )
    ) ELSE (
      (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p7)
      OR (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p8)
      OR (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) = :p9 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) = :p10 END)
    ) END
    OR CASE json_type(e.props, :p12) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p12) l0
      WHERE (l0.value IS NOT NULL AND NOT ((typeof(l0.value) = 'text' AND l0.value = :p13)))
    ) ELSE (
      json_extract(e.props, :p11) IS NOT NULL
      AND NOT ((typeof(json_extract(e.props, :p11)) = 'text' AND json_extract(e.props, :p11) = :p14))
    ) END
    OR CASE json_type(e.props, :p16) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p16) l0 WHERE l0.value LIKE :p17) ELSE json_extract(
      e.props,
      :p15
    ) LIKE :p18 END
    OR CASE json_type(e.props, :p20) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p20) l0
      WHERE (l0.value IS NOT NULL AND NOT (l0.value LIKE :p21))
    ) ELSE (
      json_extract(e.props, :p19) IS NOT NULL
      AND NOT (json_extract(e.props, :p19) LIKE :p22)
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
--   :p6 = 3
--   :p1 = '$."name"'
--   :p7 = 'a'
--   :p8 = 'b'
--   :p9 = 3
--   :p10 = 3
--   :p12 = '$."name"'
--   :p13 = 'c'
--   :p11 = '$."name"'
--   :p14 = 'c'
--   :p16 = '$."name"'
--   :p17 = 'cmd%'
--   :p15 = '$."name"'
--   :p18 = 'cmd%'
--   :p20 = '$."name"'
--   :p21 = '%.dll'
--   :p19 = '$."name"'
--   :p22 = '%.dll'

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
    OR CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p4) l0 WHERE (l0.value = :p5)) ELSE (json_extract(e.props, :p3) = :p6) END
    OR CASE json_type(e.props, :p8) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p8) l0 WHERE (l0.value = :p9)) ELSE (json_extract(e.props, :p7) = :p10) END
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
    CASE json_type(e.props, :p2) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p2) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value > :p3)
    ) ELSE (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) > :p4) END
    AND CASE json_type(e.props, :p6) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p6) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value <= :p7)
    ) ELSE (typeof(json_extract(e.props, :p5)) = 'text' AND json_extract(e.props, :p5) <= :p8) END
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
