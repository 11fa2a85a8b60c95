-- Deletes a finished (completed or cancelled) batch: its keys, its place in the list of
-- batches, and its idempotency key if that still names it. A batch in any other state is
-- left as it is, so a batch that a retry has just reopened is never deleted.
-- KEYS: 1 meta, 2 batches, 3 idem, 4.. the batch's other keys
-- ARGV: (none)
-- Returns 1 deleted, 0 not finished (the state follows), -1 no such batch.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return {-1, ''}
end
if state ~= 'completed' and state ~= 'cancelled' then
  return {0, state}
end
local order = redis.call('HGET', KEYS[1], 'order')
if order then
  redis.call('ZREM', KEYS[2], order)
  local fixed = redis.call('HGET', KEYS[1], 'batch')
  local key = fixed and cjson.decode(fixed)['idempotency_key']
  if type(key) == 'string' then
    local held = redis.call('HGET', KEYS[3], key)
    if held and string.sub(held, 1, #order + 1) == order .. '|' then
      redis.call('HDEL', KEYS[3], key)
    end
  end
end
-- UNLINK frees a large batch's memory in the background instead of blocking Redis.
for i = 1, #KEYS do
  if i ~= 2 and i ~= 3 then
    redis.call('UNLINK', KEYS[i])
  end
end
return {1, state}
