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

--    2 | a = procs WHERE binary_ref.name = 'cmd.exe' AND parent_ref.binary_ref.name LIKE '%.exe'
-- a = procs (line 2)
-- a holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
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
          WHERE (typeof(l1.value) = 'text' AND l1.value = :p2)
        ) ELSE (
          typeof(json_extract(r0.props, :p1)) = 'text'
          AND json_extract(r0.props, :p1) = :p2
        ) END
    )
    AND EXISTS (
      SELECT 1
      FROM edges h0
      JOIN entities r0 ON r0.eid = h0.dst
      WHERE
        h0.src = e.eid
        AND h0.rel = :p5
        AND EXISTS (
          SELECT 1
          FROM edges h1
          JOIN entities r1 ON r1.eid = h1.dst
          WHERE
            h1.src = r0.eid
            AND h1.rel = :p3
            AND CASE json_type(r1.props, :p1) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(r1.props, :p1) l2 WHERE l2.value LIKE :p4) ELSE json_extract(
              r1.props,
              :p1
            ) LIKE :p4 END
        )
    )
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p3 = 'binary_ref'
--   :p1 = '$."name"'
--   :p2 = 'cmd.exe'
--   :p5 = 'parent_ref'
--   :p4 = '%.exe'

--    3 | b = procs WHERE binary_ref.name IS NULL OR binary_ref.hashes.'SHA-256' IS NOT NULL
-- b = procs (line 3)
-- b holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    NOT EXISTS (
      SELECT 1
      FROM edges h0
      JOIN entities r0 ON r0.eid = h0.dst
      WHERE
        h0.src = e.eid
        AND h0.rel = :p2
        AND json_extract(r0.props, :p1) IS NOT NULL
    )
    OR EXISTS (
      SELECT 1
      FROM edges h0
      JOIN entities r0 ON r0.eid = h0.dst
      WHERE
        h0.src = e.eid
        AND h0.rel = :p2
        AND json_extract(r0.props, :p3) IS NOT NULL
    )
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p2 = 'binary_ref'
--   :p1 = '$."name"'
--   :p3 = '$."hashes"."SHA-256"'

--    4 | c = procs WHERE x_tags[*] = 'evil' AND x_list[0] = 'first' AND x_objs[*].name LIKE 'a%'
-- c = procs (line 4)
-- c holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    EXISTS (
      SELECT 1
      FROM json_each(e.props, :p1) j0
      WHERE (typeof(j0.value) = 'text' AND j0.value = :p2)
    )
    AND CASE json_type(e.props, :p3) WHEN 'array' THEN EXISTS (
      SELECT 1
      FROM json_each(e.props, :p3) l0
      WHERE (typeof(l0.value) = 'text' AND l0.value = :p4)
    ) ELSE (typeof(json_extract(e.props, :p3)) = 'text' AND json_extract(e.props, :p3) = :p4) END
    AND EXISTS (
      SELECT 1
      FROM json_each(e.props, :p6) j0
      WHERE json_extract(j0.value, :p5) LIKE :p7
    )
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = '$."x_tags"'
--   :p2 = 'evil'
--   :p3 = '$."x_list"[0]'
--   :p4 = 'first'
--   :p6 = '$."x_objs"'
--   :p5 = '$."name"'
--   :p7 = 'a%'

--    5 | d = procs WHERE opened_connection_refs.dst_ref.value NOT LIKE '10.%'
-- d = procs (line 5)
-- d holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND EXISTS (
    SELECT 1
    FROM edges h0
    JOIN entities r0 ON r0.eid = h0.dst
    WHERE
      h0.src = e.eid
      AND h0.rel = :p4
      AND EXISTS (
        SELECT 1
        FROM edges h1
        JOIN entities r1 ON r1.eid = h1.dst
        WHERE
          h1.src = r0.eid
          AND h1.rel = :p3
          AND CASE json_type(r1.props, :p1) WHEN 'array' THEN EXISTS (
            SELECT 1
            FROM json_each(r1.props, :p1) l2
            WHERE (l2.value IS NOT NULL AND NOT (l2.value LIKE :p2))
          ) ELSE (
            json_extract(r1.props, :p1) IS NOT NULL
            AND NOT (json_extract(r1.props, :p1) LIKE :p2)
          ) END
      )
  )
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p4 = 'opened_connection_refs'
--   :p3 = 'dst_ref'
--   :p1 = '$."value"'
--   :p2 = '10.%'

--    6 | e = procs WHERE id = 'process--1' AND type = 'process'
-- e = procs (line 6)
-- e holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND ((typeof(e.id) = 'text' AND e.id = :p1) AND (typeof(e.type) = 'text' AND e.type = :p2))
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 'process--1'
--   :p2 = 'process'

--    7 | f = procs WHERE file:name = 'evil.exe' OR user-account:user_id = 'root'
-- f = procs (line 7)
-- f holds entities
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
  AND (
    EXISTS (
      SELECT 1
      FROM contains xc
      JOIN contains xo ON xo.oid = xc.oid
      JOIN entities x ON x.eid = xo.eid
      WHERE
        xc.eid = e.eid
        AND xo.etype = :p1
        AND CASE json_type(x.props, :p2) WHEN 'array' THEN EXISTS (
          SELECT 1
          FROM json_each(x.props, :p2) l0
          WHERE (typeof(l0.value) = 'text' AND l0.value = :p3)
        ) ELSE (
          typeof(json_extract(x.props, :p2)) = 'text'
          AND json_extract(x.props, :p2) = :p3
        ) END
    )
    OR EXISTS (
      SELECT 1
      FROM contains xc
      JOIN contains xo ON xo.oid = xc.oid
      JOIN entities x ON x.eid = xo.eid
      WHERE
        xc.eid = e.eid
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
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 'file'
--   :p2 = '$."name"'
--   :p3 = 'evil.exe'
--   :p4 = 'user-account'
--   :p5 = '$."user_id"'
--   :p6 = 'root'
