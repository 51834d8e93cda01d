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

--    2 | ip4 = NEW ipv4-addr ["192.0.2.1"]
-- ip4 = NEW ipv4-addr (line 2)
-- no query compiled for the data: 1 item(s) become ipv4-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ip4 is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | ip6 = NEW ipv6-addr ["2001:db8::1"]
-- ip6 = NEW ipv6-addr (line 3)
-- no query compiled for the data: 1 item(s) become ipv6-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ip6 is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | mac = NEW mac-addr ["00:00:5e:00:53:01"]
-- mac = NEW mac-addr (line 4)
-- no query compiled for the data: 1 item(s) become mac-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then mac is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    5 | dn = NEW domain-name ["example.com"]
-- dn = NEW domain-name (line 5)
-- no query compiled for the data: 1 item(s) become domain-name objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then dn is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    6 | art = NEW artifact [{"mime_type": "text/plain"}]
-- art = NEW artifact (line 6)
-- no query compiled for the data: 1 item(s) become artifact objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then art is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    7 | em = NEW email-addr ["a@example.com"]
-- em = NEW email-addr (line 7)
-- no query compiled for the data: 1 item(s) become email-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then em is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    8 | r1 = FIND process CREATED BY p
-- r1 = FIND process CREATED BY p (line 8)
-- edge: result --parent_ref--> p
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
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

--    9 | r2 = FIND network-traffic CREATED BY p
-- r2 = FIND network-traffic CREATED BY p (line 9)
-- edge: p --opened_connection_refs--> result
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
--   :p1 = 'opened_connection_refs'
--   :p2 = 'network-traffic'

--   10 | r3 = FIND network-traffic CREATED BY ip4
-- r3 = FIND network-traffic CREATED BY ip4 (line 10)
-- edge: result --src_ref--> ip4
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
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
--   :p1 = 'src_ref'
--   :p2 = 'network-traffic'

--   11 | r4 = FIND network-traffic CREATED BY ip6
-- r4 = FIND network-traffic CREATED BY ip6 (line 11)
-- edge: result --src_ref--> ip6
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
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
--   :p1 = 'src_ref'
--   :p2 = 'network-traffic'

--   12 | r5 = FIND network-traffic CREATED BY mac
-- r5 = FIND network-traffic CREATED BY mac (line 12)
-- edge: result --src_ref--> mac
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_mac)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_mac = 'mac'
--   :p1 = 'src_ref'
--   :p2 = 'network-traffic'

--   13 | r6 = FIND network-traffic CREATED BY dn
-- r6 = FIND network-traffic CREATED BY dn (line 13)
-- edge: result --src_ref--> dn
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_dn)
      AND g.rel IN (:p1)
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_dn = 'dn'
--   :p1 = 'src_ref'
--   :p2 = 'network-traffic'

--   14 | r7 = FIND network-traffic CREATED BY art
-- r7 = FIND network-traffic CREATED BY art (line 14)
-- edge: result --src_payload_ref--> art
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
--   :p1 = 'src_payload_ref'
--   :p2 = 'network-traffic'

--   15 | r8 = FIND email-message CREATED BY em
-- r8 = FIND email-message CREATED BY em (line 15)
-- edge: result --from_ref|sender_ref--> em
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_em)
      AND g.rel IN (:p1, :p2)
  )
  AND e.type = :p3
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_em = 'em'
--   :p1 = 'from_ref'
--   :p2 = 'sender_ref'
--   :p3 = 'email-message'
