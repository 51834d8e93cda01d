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

--    2 | r1 = FIND ipv4-addr LINKED procs
-- r1 = FIND ipv4-addr LINKED procs (line 2)
-- LINKED: ipv4-addr objects in the same observations as procs's
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT c2.eid AS eid
    FROM var_rows v
    JOIN contains c1 ON c1.eid = v.eid
    JOIN contains c2 ON c2.oid = c1.oid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
      AND c2.etype = :p1
  )
  AND e.type = :p1
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 'ipv4-addr'

--    3 | r2 = FIND ipv4-addr LINKED procs WHERE value NOT LIKE '10.%' START 2024-12-01T00:00:00Z STOP 2024-12-02T00:00:00Z LIMIT 5
-- r2 = FIND ipv4-addr LINKED procs (line 3)
-- LINKED: ipv4-addr objects in the same observations as procs's
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT c2.eid AS eid
    FROM var_rows v
    JOIN contains c1 ON c1.eid = v.eid
    JOIN contains c2 ON c2.oid = c1.oid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
      AND c2.etype = :p3
      AND c1.oid IN (
        SELECT oid
        FROM observations
        WHERE
          cid = :cid
          AND first_observed < :p1
          AND last_observed >= :p2
      )
  )
  AND e.type = :p3
  AND CASE json_type(e.props, :p4) WHEN 'array' THEN EXISTS (
    SELECT 1
    FROM json_each(e.props, :p4) l0
    WHERE (l0.value IS NOT NULL AND NOT (l0.value LIKE :p5))
  ) ELSE (json_extract(e.props, :p4) IS NOT NULL AND NOT (json_extract(e.props, :p4) LIKE :p5)) END
ORDER BY e.eid
LIMIT :p6;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p3 = 'ipv4-addr'
--   :p1 = '2024-12-02T00:00:00.000Z'
--   :p2 = '2024-12-01T00:00:00.000Z'
--   :p4 = '$."value"'
--   :p5 = '10.%'
--   :p6 = 5

--    4 | r3 = FIND file LOADED BY procs WHERE name LIKE '%.dll' LAST 3 DAYS LIMIT 10
-- r3 = FIND file LOADED BY procs (line 4)
-- edge: procs --binary_ref--> result
-- LAST: start and stop come from the clock at run time
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
      AND g.rel IN (:p3)
  )
  AND e.type = :p4
  AND CASE json_type(e.props, :p5) WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.props, :p5) l0 WHERE l0.value LIKE :p6) ELSE json_extract(
    e.props,
    :p5
  ) LIKE :p6 END
  AND EXISTS (
    SELECT 1
    FROM contains tc
    WHERE
      tc.eid = e.eid
      AND tc.oid IN (
        SELECT oid
        FROM observations
        WHERE
          cid = :cid
          AND first_observed < :p1
          AND last_observed >= :p2
      )
  )
ORDER BY e.eid
LIMIT :p7;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p3 = 'binary_ref'
--   :p4 = 'file'
--   :p5 = '$."name"'
--   :p6 = '%.dll'
--   :p1 = '<now>'
--   :p2 = '<now - 3 days>'
--   :p7 = 10

--    5 | r4 = FIND process CREATED procs WHERE x-oca-asset:hostname = 'h1'
-- r4 = FIND process CREATED procs (line 5)
-- edge: procs --parent_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_procs)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND EXISTS (
    SELECT 1
    FROM contains xc
    JOIN contains xo ON xo.oid = xc.oid
    JOIN entities x ON x.eid = xo.eid
    WHERE
      xc.eid = e.eid
      AND xo.etype = :p3
      AND CASE json_type(x.props, :p4) WHEN 'array' THEN EXISTS (
        SELECT 1
        FROM json_each(x.props, :p4) l0
        WHERE (typeof(l0.value) = 'text' AND l0.value = :p5)
      ) ELSE (typeof(json_extract(x.props, :p4)) = 'text' AND json_extract(x.props, :p4) = :p5) END
  )
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_procs = 'procs'
--   :p1 = 'parent_ref'
--   :p2 = 'process'
--   :p3 = 'x-oca-asset'
--   :p4 = '$."hostname"'
--   :p5 = 'h1'
