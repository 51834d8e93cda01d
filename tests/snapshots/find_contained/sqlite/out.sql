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

--    4 | art = NEW artifact [{"mime_type": "text/plain"}]
-- art = NEW artifact (line 4)
-- no query compiled for the data: 1 item(s) become artifact objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then art is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    5 | r1 = FIND network-traffic CONTAINED nt
-- r1 = FIND network-traffic CONTAINED nt (line 5)
-- edge: nt --encapsulated_by_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
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

--    6 | r2 = FIND directory CONTAINED f
-- r2 = FIND directory CONTAINED f (line 6)
-- edge: result --contains_refs--> f
-- edge: f --parent_directory_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_f)
      AND g.rel IN (:p1)
    UNION
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_f)
      AND g.rel IN (:p2)
  )
  AND e.type = :p3
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_f = 'f'
--   :p1 = 'contains_refs'
--   :p2 = 'parent_directory_ref'
--   :p3 = 'directory'

--    7 | r3 = FIND directory CONTAINED d
-- r3 = FIND directory CONTAINED d (line 7)
-- edge: result --contains_refs--> d
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
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

--    8 | r4 = FIND file CONTAINED art
-- r4 = FIND file CONTAINED art (line 8)
-- edge: result --content_ref--> art
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_art)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_art = 'art'
--   :p1 = 'content_ref'
--   :p2 = 'file'
