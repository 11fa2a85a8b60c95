-- Applies a transition to one item if it is still in the expected state and step, and moves
-- the counters and the due set with it. An item not started yet leaves the fresh set and the
-- `not_started` count; the transition's step outcome, if any, joins that step's outcome list.
-- KEYS: 1 items, 2 counts, 3 due, 4 meta, 5 fresh, 6 outcome list of the outcome's step (all
--       of one batch, one hash tag)
-- ARGV: 1 member, 2 from state, 3 from step ('' = none), 4 to state, 5 patch (JSON object
--       of the fields to replace), 6 new step ('' = none), 7 due score ('' = not due),
--       8 '1' when there is an outcome, 9 its error code ('' = success), 10 outcomes kept
-- Returns 1 applied, 0 not in the expected state/step, -1 no such batch, -2 no such item.
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then
  if redis.call('EXISTS', KEYS[4]) == 0 then
    return -1
  end
  return -2
end
local item = cjson.decode(raw)
local step = item.step
if step == nil or step == cjson.null then
  step = ''
end
if item.state ~= ARGV[2] or step ~= ARGV[3] then
  return 0
end
for field, value in pairs(cjson.decode(ARGV[5])) do
  item[field] = value
end
if item.started == false then
  item.started = true
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('HINCRBY', KEYS[2], 'not_started', -1)
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(item))
redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
if ARGV[3] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[3] .. '|' .. ARGV[2], -1)
end
if ARGV[6] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[6] .. '|' .. ARGV[4], 1)
end
if ARGV[7] == '' then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[1])
end
if ARGV[8] == '1' then
  redis.call('LPUSH', KEYS[6], ARGV[9])
  redis.call('LTRIM', KEYS[6], 0, tonumber(ARGV[10]) - 1)
end
return 1
