--    1 | u = NEW user-account ["root"]
-- u = NEW user-account (line 1)
-- no query compiled for the data: 1 item(s) become user-account objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then u is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | asys = NEW autonomous-system [{"number": 64496}]
-- asys = NEW autonomous-system (line 2)
-- no query compiled for the data: 1 item(s) become autonomous-system objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then asys is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | r1 = FIND process OWNED BY u
-- r1 = FIND process OWNED BY u (line 3)
-- edge: result --creator_user_ref--> u
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_u)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_u = 'u'
--   :p1 = 'creator_user_ref'
--   :p2 = 'process'

--    4 | r2 = FIND email-addr OWNED BY u
-- r2 = FIND email-addr OWNED BY u (line 4)
-- edge: result --belongs_to_ref--> u
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_u)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_u = 'u'
--   :p1 = 'belongs_to_ref'
--   :p2 = 'email-addr'

--    5 | r3 = FIND ipv4-addr OWNED BY asys
-- r3 = FIND ipv4-addr OWNED BY asys (line 5)
-- edge: result --belongs_to_refs--> asys
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_asys)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_asys = 'asys'
--   :p1 = 'belongs_to_refs'
--   :p2 = 'ipv4-addr'

--    6 | r4 = FIND ipv6-addr OWNED BY asys
-- r4 = FIND ipv6-addr OWNED BY asys (line 6)
-- edge: result --belongs_to_refs--> asys
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_asys)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_asys = 'asys'
--   :p1 = 'belongs_to_refs'
--   :p2 = 'ipv6-addr'
