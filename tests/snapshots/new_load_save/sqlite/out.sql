--    1 | a = NEW process ["cmd.exe", "net.exe"]
-- a = NEW process (line 1)
-- no query compiled for the data: 2 item(s) become process objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then a is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    2 | b = NEW [{"type": "ipv4-addr", "value": "192.0.2.1"}]
-- b = NEW (line 2)
-- no query compiled for the data: 1 item(s) become ipv4-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then b is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    3 | c = NEW ipv4-addr [{"value": "192.0.2.2"}, {"value": "192.0.2.3"}]
-- c = NEW ipv4-addr (line 3)
-- no query compiled for the data: 2 item(s) become ipv4-addr objects with deterministic STIX ids, stored into entities and edges (merged with existing ones); then c is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    4 | d = LOAD "/tmp/procs.csv" AS process
-- d = LOAD /tmp/procs.csv (line 4)
-- no query compiled for the data: reads /tmp/procs.csv (CSV, JSON or JSON lines by suffix; .gz too), each row an object of process, stored as NEW stores them; then d is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    5 | e = LOAD file:///tmp/objects.jsonl
-- e = LOAD file:///tmp/objects.jsonl (line 5)
-- no query compiled for the data: reads file:///tmp/objects.jsonl (CSV, JSON or JSON lines by suffix; .gz too), each row an object of the type named by each row, stored as NEW stores them; then e is those entities, in order:
SELECT e.eid AS eid
FROM stage_ids s
JOIN entities e ON e.cid = :cid AND e.id = s.id
GROUP BY e.eid
ORDER BY MIN(s.pos);
-- params:
--   :cid = 1

--    6 | SAVE a TO /tmp/out.csv
-- the attribute names of a's entities
SELECT DISTINCT j.key
FROM var_rows v
JOIN entities e ON e.eid = v.eid, json_each(e.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a);
-- params:
--   :cid = 1
--   :var_a = 'a'
-- for each *_ref attribute found: the attribute names of the objects it points to
SELECT DISTINCT j.key
FROM var_rows v
JOIN edges g ON g.src = v.eid AND g.rel = :p0
JOIN entities t ON t.eid = g.dst, json_each(t.props) j
WHERE v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a);
-- params:
--   :p0 = '<name>_ref'
--   :cid = 1
--   :var_a = 'a'
-- SAVE a TO /tmp/out.csv (line 6)
-- writes the rows of DISP a to /tmp/out.csv (CSV or JSON by suffix)
-- without ATTR the columns are decided at run time from the data: id, every other attribute (sorted), then <ref>.<attribute> for each *_ref; shown with placeholders
-- columns: id, <column>, <name>_ref.<column>
-- rows that are all NULL and repeated rows are dropped in Python
SELECT
  e.id,
  json_extract(e.props, :p0),
  (
    SELECT json_extract(t0.props, :p0)
    FROM edges g0
    JOIN entities t0 ON t0.eid = g0.dst
    WHERE
      g0.src = e.eid
      AND g0.rel = :p1
    ORDER BY t0.eid
    LIMIT 1
  )
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."<column>"'
--   :p1 = '<name>_ref'
--   :cid = 1
--   :var_a = 'a'

--    7 | f = a ATTR name
-- f = a (line 7)
-- f holds entities
-- ATTR name: f's default DISP columns (no SQL)
SELECT v.eid AS eid, v.oid AS oid, v.data AS data
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_a)
  AND 1
ORDER BY v.rid;
-- params:
--   :cid = 1
--   :var_a = 'a'

--    8 | SAVE f TO "/tmp/out.json"
-- SAVE f TO /tmp/out.json (line 8)
-- writes the rows of DISP f to /tmp/out.json (CSV or JSON by suffix)
-- no ATTR: f's default columns (from the ATTR that made it)
-- columns: name
-- rows that are all NULL and repeated rows are dropped in Python
SELECT json_extract(e.props, :p0)
FROM var_rows v
JOIN entities e ON e.eid = v.eid
WHERE
  v.vid = (SELECT vid FROM variables WHERE cid = :cid AND name = :var_f)
  AND 1
ORDER BY v.rid;
-- params:
--   :p0 = '$."name"'
--   :cid = 1
--   :var_f = 'f'
