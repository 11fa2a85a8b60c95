-- Compare-and-set of a batch's control state.
-- KEYS: 1 meta
-- ARGV: 1 expected state, 2 new state, 3 now (ms)
-- Returns 1 changed, 0 not in the expected state, -1 no such batch.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return -1
end
if state ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated_at', ARGV[3])
return 1
