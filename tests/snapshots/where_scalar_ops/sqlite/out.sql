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
    CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p2 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p2 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) = :p2 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) = :p2 END) END
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (
        l0.value IS NOT NULL
        AND NOT (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p3 WHEN typeof(l0.value) = 'text' THEN l0.value = :p4 END)
      )
    ) ELSE (
      json_extract(e.props, :p1) IS NOT NULL
      AND NOT (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) = :p3 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN json_extract(e.props, :p1) = :p4 END)
    ) END
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value < :p5 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) < :p5 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) < :p5 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) < :p5 END) END
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value <= :p6 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) <= :p6 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) <= :p6 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) <= :p6 END) END
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value > :p7 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) > :p7 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) > :p7 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) > :p7 END) END
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value >= :p8 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) >= :p8 END)
    ) ELSE (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) >= :p8 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) >= :p8 END) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."pid"'
--   :p2 = 4
--   :p3 = 8
--   :p4 = '8'
--   :p5 = 10
--   :p6 = 10.5
--   :p7 = -1
--   :p8 = 0

--    3 | b = procs WHERE name IN ('a', 'b', 3) OR name NOT IN ['c'] OR name LIKE 'cmd%' OR name NOT LIKE '%.dll'
-- b = procs (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (
        (typeof(l0.value) = 'text' AND l0.value = :p2)
        OR (typeof(l0.value) = 'text' AND l0.value = :p3)
        OR (CASE WHEN typeof(l0.value) IN ('integer', 'real') THEN l0.value = :p4 WHEN typeof(l0.value) = 'text' THEN sg_num(l0.value) = :p4 END)
      )
    ) ELSE (
      (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p2)
      OR (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p3)
      OR (CASE WHEN typeof(json_extract(e.props, :p1)) IN ('integer', 'real') THEN json_extract(e.props, :p1) = :p4 WHEN typeof(json_extract(e.props, :p1)) = 'text' THEN sg_num(json_extract(e.props, :p1)) = :p4 END)
    ) END
    OR CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (l0.value IS NOT NULL AND NOT ((typeof(l0.value) = 'text' AND l0.value = :p5)))
    ) ELSE (
      json_extract(e.props, :p1) IS NOT NULL
      AND NOT ((typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) = :p5))
    ) END
    OR CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p1) l0 WHERE l0.value LIKE :p6) ELSE json_extract(
      e.props,
      :p1
    ) LIKE :p6 END
    OR CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (l0.value IS NOT NULL AND NOT (l0.value LIKE :p7))
    ) ELSE (
      json_extract(e.props, :p1) IS NOT NULL
      AND NOT (json_extract(e.props, :p1) LIKE :p7)
    ) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = 'a'
--   :p3 = 'b'
--   :p4 = 3
--   :p5 = 'c'
--   :p6 = 'cmd%'
--   :p7 = '%.dll'

--    4 | c = procs WHERE command_line MATCHES r'\bnet(stat)?\b' OR command_line NOT MATCHES '^x'
-- c = procs (line 4)
-- c holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p1) l0 WHERE sg_matches(:p2, l0.value)) ELSE sg_matches(
      :p2,
      json_extract(e.props, :p1)
    ) END
    OR CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (l0.value IS NOT NULL AND NOT (sg_matches(:p3, l0.value)))
    ) ELSE (
      json_extract(e.props, :p1) IS NOT NULL
      AND NOT (sg_matches(:p3, json_extract(e.props, :p1)))
    ) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."command_line"'
--   :p2 = '\\bnet(stat)?\\b'
--   :p3 = '^x'

--    5 | d = procs WHERE x_ip ISSUBSET '10.0.0.0/8' AND x_net NOT ISSUPERSET '10.1.2.3'
-- d = procs (line 5)
-- d holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p1) l0 WHERE sg_in_subnet(l0.value, :p2)) ELSE sg_in_subnet(
      json_extract(e.props, :p1),
      :p2
    ) END
    AND CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p3) l0
      WHERE (l0.value IS NOT NULL AND NOT (sg_in_subnet(:p4, l0.value)))
    ) ELSE (
      json_extract(e.props, :p3) IS NOT NULL
      AND NOT (sg_in_subnet(:p4, json_extract(e.props, :p3)))
    ) END
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
    OR CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p3) l0 WHERE (l0.value = :p4)) ELSE (json_extract(e.props, :p3) = :p4) END
    OR CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p3) l0 WHERE (l0.value = :p5)) ELSE (json_extract(e.props, :p3) = :p5) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."name"'
--   :p2 = '$."pid"'
--   :p3 = '$."x_flag"'
--   :p4 = 1
--   :p5 = 0

--    7 | f = procs WHERE created > t'2024-12-01T00:00:00Z' AND created <= 2024-12-02T00:00:00Z
-- f = procs (line 7)
-- f holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value > :p2)
    ) ELSE (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) > :p2) END
    AND CASE json_type(e.props, :p1) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value <= :p3)
    ) ELSE (typeof(json_extract(e.props, :p1)) = 'text' AND json_extract(e.props, :p1) <= :p3) END
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."created"'
--   :p2 = '2024-12-01T00:00:00.000Z'
--   :p3 = '2024-12-02T00:00:00.000Z'
