--    1 | ip4 = NEW ipv4-addr ["192.0.2.1"]
-- ip4 = NEW ipv4-addr (line 1)
-- no query compiled for the data: 1 item(s) become ipv4-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ip4 is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | ip6 = NEW ipv6-addr ["2001:db8::1"]
-- ip6 = NEW ipv6-addr (line 2)
-- no query compiled for the data: 1 item(s) become ipv6-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then ip6 is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | mac = NEW mac-addr ["00:00:5e:00:53:01"]
-- mac = NEW mac-addr (line 3)
-- no query compiled for the data: 1 item(s) become mac-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then mac is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | dn = NEW domain-name ["example.com"]
-- dn = NEW domain-name (line 4)
-- no query compiled for the data: 1 item(s) become domain-name objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then dn is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    5 | art = NEW artifact [{"mime_type": "text/plain"}]
-- art = NEW artifact (line 5)
-- no query compiled for the data: 1 item(s) become artifact objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then art is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    6 | em = NEW email-addr ["a@example.com"]
-- em = NEW email-addr (line 6)
-- no query compiled for the data: 1 item(s) become email-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then em is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    7 | r1 = FIND network-traffic ACCEPTED BY ip4
-- r1 = FIND network-traffic ACCEPTED BY ip4 (line 7)
-- edge: result --dst_ref--> ip4
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
--   :p1 = 'dst_ref'
--   :p2 = 'network-traffic'

--    8 | r2 = FIND network-traffic ACCEPTED BY ip6
-- r2 = FIND network-traffic ACCEPTED BY ip6 (line 8)
-- edge: result --dst_ref--> ip6
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
--   :p1 = 'dst_ref'
--   :p2 = 'network-traffic'

--    9 | r3 = FIND network-traffic ACCEPTED BY mac
-- r3 = FIND network-traffic ACCEPTED BY mac (line 9)
-- edge: result --dst_ref--> mac
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
--   :p1 = 'dst_ref'
--   :p2 = 'network-traffic'

--   10 | r4 = FIND network-traffic ACCEPTED BY dn
-- r4 = FIND network-traffic ACCEPTED BY dn (line 10)
-- edge: result --dst_ref--> dn
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
--   :p1 = 'dst_ref'
--   :p2 = 'network-traffic'

--   11 | r5 = FIND network-traffic ACCEPTED BY art
-- r5 = FIND network-traffic ACCEPTED BY art (line 11)
-- edge: result --dst_payload_ref--> art
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
--   :p1 = 'dst_payload_ref'
--   :p2 = 'network-traffic'

--   12 | r6 = FIND email-message ACCEPTED BY em
-- r6 = FIND email-message ACCEPTED BY em (line 12)
-- edge: result --to_refs|cc_refs|bcc_refs--> em
SELECT e.eid AS eid
FROM entities e
WHERE
  e.eid IN (
    SELECT g.src AS eid
    FROM var_rows v
    JOIN edges g ON g.dst = v.eid
    WHERE
      v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_em)
      AND g.rel IN (:p1, :p2, :p3)
  )
  AND e.type = :p4
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_em = 'em'
--   :p1 = 'to_refs'
--   :p2 = 'cc_refs'
--   :p3 = 'bcc_refs'
--   :p4 = 'email-message'
