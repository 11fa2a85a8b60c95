-- The items due at a time, longest-due first (ties in index order).
-- KEYS: 1 meta, 2 due, 3 items
-- ARGV: 1 now (ms), 2 limit
-- Returns false when the batch does not exist, else {members, item JSONs} (a missing item
-- gives false in its place).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local members = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local items = {}
for i, member in ipairs(members) do
  items[i] = redis.call('HGET', KEYS[3], member)
end
return {members, items}
