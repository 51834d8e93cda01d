--    1 | f = NEW file ["a.dll"]
-- f = NEW file (line 1)
-- no query compiled for the data: 1 item(s) become file objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then f is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | r1 = FIND process LOADED f
-- r1 = FIND process LOADED f (line 2)
-- edge: result --binary_ref--> f
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
  )
  AND e.type = :p2
  AND 1
ORDER BY e.eid;
-- params:
--   :cid = 1
--   :var_f = 'f'
--   :p1 = 'binary_ref'
--   :p2 = 'process'
