--    1 | DISP nope
-- DISP nope (line 1)
-- fails at run time: unknown variable 'nope'

--    2 | x = nope WHERE pid = 1
-- x = nope (line 2)
-- fails at run time: unknown variable 'nope'

--    3 | y = SORT nope BY pid
-- y = SORT nope BY pid DESC (line 3)
-- fails at run time: unknown variable 'nope'

--    4 | INFO nope
-- INFO nope (line 4)
-- fails at run time: unknown variable 'nope'
