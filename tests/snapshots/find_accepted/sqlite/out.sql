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

--    2 | msg = NEW email-message [{"subject": "hi"}]
-- msg = NEW email-message (line 2)
-- no query compiled for the data: 1 item(s) become email-message objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then msg is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | r1 = FIND ipv4-addr ACCEPTED nt
-- r1 = FIND ipv4-addr ACCEPTED nt (line 3)
-- edge: nt --dst_ref--> result
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
--   :p1 = 'dst_ref'
--   :p2 = 'ipv4-addr'

--    4 | r2 = FIND ipv6-addr ACCEPTED nt
-- r2 = FIND ipv6-addr ACCEPTED nt (line 4)
-- edge: nt --dst_ref--> result
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
--   :p1 = 'dst_ref'
--   :p2 = 'ipv6-addr'

--    5 | r3 = FIND mac-addr ACCEPTED nt
-- r3 = FIND mac-addr ACCEPTED nt (line 5)
-- edge: nt --dst_ref--> result
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
--   :p1 = 'dst_ref'
--   :p2 = 'mac-addr'

--    6 | r4 = FIND domain-name ACCEPTED nt
-- r4 = FIND domain-name ACCEPTED nt (line 6)
-- edge: nt --dst_ref--> result
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
--   :p1 = 'dst_ref'
--   :p2 = 'domain-name'

--    7 | r5 = FIND artifact ACCEPTED nt
-- r5 = FIND artifact ACCEPTED nt (line 7)
-- edge: nt --dst_payload_ref--> result
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
--   :p1 = 'dst_payload_ref'
--   :p2 = 'artifact'

--    8 | r6 = FIND email-addr ACCEPTED msg
-- r6 = FIND email-addr ACCEPTED msg (line 8)
-- edge: msg --to_refs|cc_refs|bcc_refs--> result
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.dst AS eid
    FROM var_rows v
    JOIN edges g ON g.src = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_msg)
      AND g.rel IN (:p1, :p2, :p3)
  )
  AND e.type = :p4
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_msg = 'msg'
--   :p1 = 'to_refs'
--   :p2 = 'cc_refs'
--   :p3 = 'bcc_refs'
--   :p4 = 'email-addr'
