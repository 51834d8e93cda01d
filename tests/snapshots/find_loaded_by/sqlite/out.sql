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

--    2 | r1 = FIND file LOADED BY p
-- r1 = FIND file LOADED BY p (line 2)
-- edge: p --binary_ref--> result
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
--   :p1 = 'binary_ref'
--   :p2 = 'file'
