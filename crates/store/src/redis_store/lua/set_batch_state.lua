-- Compare-and-set of a batch's control state, with the reason it paused itself. A batch
-- that resumes (paused -> running) starts its outcome windows afresh.
-- KEYS: 1 meta, 2.. the batch's outcome lists
-- ARGV: 1 expected state, 2 new state, 3 now (ms), 4 reason (JSON; '' = none, which clears it)
-- Returns 1 changed, 0 not in the expected state, -1 no such batch.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return -1
end
if state ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updated_at', ARGV[3])
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], 'paused_reason')
else
  redis.call('HSET', KEYS[1], 'paused_reason', ARGV[4])
end
if ARGV[1] == 'paused' and ARGV[2] == 'running' then
  for i = 2, #KEYS do
    redis.call('DEL', KEYS[i])
  end
end
return 1
