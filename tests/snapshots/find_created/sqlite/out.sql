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

--    2 | nt = NEW network-traffic [{"dst_port": 443}]
-- nt = NEW network-traffic (line 2)
-- no query compiled for the data: 1 item(s) become network-traffic objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then nt is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | msg = NEW email-message [{"subject": "hi"}]
-- msg = NEW email-message (line 3)
-- no query compiled for the data: 1 item(s) become email-message objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then msg is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | r1 = FIND process CREATED p
-- r1 = FIND process CREATED p (line 4)
-- edge: p --parent_ref--> result
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
--   :p1 = 'parent_ref'
--   :p2 = 'process'

--    5 | r2 = FIND process CREATED nt
-- r2 = FIND process CREATED nt (line 5)
-- edge: result --opened_connection_refs--> nt
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
--   :p1 = 'opened_connection_refs'
--   :p2 = 'process'

--    6 | r3 = FIND ipv4-addr CREATED nt
-- r3 = FIND ipv4-addr CREATED nt (line 6)
-- edge: nt --src_ref--> result
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
--   :p1 = 'src_ref'
--   :p2 = 'ipv4-addr'

--    7 | r4 = FIND ipv6-addr CREATED nt
-- r4 = FIND ipv6-addr CREATED nt (line 7)
-- edge: nt --src_ref--> result
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
--   :p1 = 'src_ref'
--   :p2 = 'ipv6-addr'

--    8 | r5 = FIND mac-addr CREATED nt
-- r5 = FIND mac-addr CREATED nt (line 8)
-- edge: nt --src_ref--> result
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
--   :p1 = 'src_ref'
--   :p2 = 'mac-addr'

--    9 | r6 = FIND domain-name CREATED nt
-- r6 = FIND domain-name CREATED nt (line 9)
-- edge: nt --src_ref--> result
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
--   :p1 = 'src_ref'
--   :p2 = 'domain-name'

--   10 | r7 = FIND artifact CREATED nt
-- r7 = FIND artifact CREATED nt (line 10)
-- edge: nt --src_payload_ref--> result
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
--   :p1 = 'src_payload_ref'
--   :p2 = 'artifact'

--   11 | r8 = FIND email-addr CREATED msg
-- r8 = FIND email-addr CREATED msg (line 11)
-- edge: msg --from_ref|sender_ref--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_msg)
      AND g.rel IN (:p1, :p2)
  )
  AND e.type = :p3
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_msg = 'msg'
--   :p1 = 'from_ref'
--   :p2 = 'sender_ref'
--   :p3 = 'email-addr'
