--    1 | p = NEW process ["a.exe"]
-- p = NEW process (line 1)
-- no query compiled for the data: 1 item(s) become process objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then p is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | em = NEW email-addr ["a@example.com"]
-- em = NEW email-addr (line 2)
-- no query compiled for the data: 1 item(s) become email-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then em is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | ip4 = NEW ipv4-addr ["192.0.2.1"]
-- ip4 = NEW ipv4-addr (line 3)
-- no query compiled for the data: 1 item(s) become ipv4-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ip4 is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | ip6 = NEW ipv6-addr ["2001:db8::1"]
-- ip6 = NEW ipv6-addr (line 4)
-- no query compiled for the data: 1 item(s) become ipv6-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ip6 is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    5 | r1 = FIND user-account OWNED p
-- r1 = FIND user-account OWNED p (line 5)
-- edge: p --creator_user_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_p)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_p = 'p'
--   :p1 = 'creator_user_ref'
--   :p2 = 'user-account'

--    6 | r2 = FIND user-account OWNED em
-- r2 = FIND user-account OWNED em (line 6)
-- edge: em --belongs_to_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_em)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_em = 'em'
--   :p1 = 'belongs_to_ref'
--   :p2 = 'user-account'

--    7 | r3 = FIND autonomous-system OWNED ip4
-- r3 = FIND autonomous-system OWNED ip4 (line 7)
-- edge: ip4 --belongs_to_refs--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ip4)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_ip4 = 'ip4'
--   :p1 = 'belongs_to_refs'
--   :p2 = 'autonomous-system'

--    8 | r4 = FIND autonomous-system OWNED ip6
-- r4 = FIND autonomous-system OWNED ip6 (line 8)
-- edge: ip6 --belongs_to_refs--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_ip6)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_ip6 = 'ip6'
--   :p1 = 'belongs_to_refs'
--   :p2 = 'autonomous-system'
