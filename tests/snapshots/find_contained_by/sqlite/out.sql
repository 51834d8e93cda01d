--    1 | nt = NEW network-traffic [{"dst_port": 443}]
-- nt = NEW network-traffic (line 1)
-- no query compiled for the data: 1 item(s) become network-traffic objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then nt is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | f = NEW file ["a.txt"]
-- f = NEW file (line 2)
-- no query compiled for the data: 1 item(s) become file objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then f is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | d = NEW directory ["/tmp"]
-- d = NEW directory (line 3)
-- no query compiled for the data: 1 item(s) become directory objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then d is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | r1 = FIND network-traffic CONTAINED BY nt
-- r1 = FIND network-traffic CONTAINED BY nt (line 4)
-- edge: result --encapsulated_by_ref--> nt
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_nt)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_nt = 'nt'
--   :p1 = 'encapsulated_by_ref'
--   :p2 = 'network-traffic'

--    5 | r2 = FIND file CONTAINED BY d
-- r2 = FIND file CONTAINED BY d (line 5)
-- edge: d --contains_refs--> result
-- edge: result --parent_directory_ref--> d
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_d)
      AND g.rel IN (:p1)
    UNION
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_d)
      AND g.rel IN (:p2)
  )
  AND e.type = :p3
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_d = 'd'
--   :p1 = 'contains_refs'
--   :p2 = 'parent_directory_ref'
--   :p3 = 'file'

--    6 | r3 = FIND directory CONTAINED BY d
-- r3 = FIND directory CONTAINED BY d (line 6)
-- edge: d --contains_refs--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_d)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_d = 'd'
--   :p1 = 'contains_refs'
--   :p2 = 'directory'

--    7 | r4 = FIND artifact CONTAINED BY f
-- r4 = FIND artifact CONTAINED BY f (line 7)
-- edge: f --content_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_f)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_f = 'f'
--   :p1 = 'content_ref'
--   :p2 = 'artifact'
