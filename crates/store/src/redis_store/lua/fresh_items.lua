-- The items not started yet, in index order.
-- KEYS: 1 meta, 2 fresh, 3 items
-- ARGV: 1 limit
-- Returns false when the batch does not exist, else {members, item JSONs} (a missing item
-- gives false in its place).
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local members = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
local items = {}
for i, member in ipairs(members) do
  items[i] = redis.call('HGET', KEYS[3], member)
end
return {members, items}
