-- Deletes a batch's lease if the caller holds it.
-- KEYS: 1 lease
-- ARGV: 1 holder
-- Returns 1 released, 0 not held by the caller.
local value = redis.call('GET', KEYS[1])
if not value then
  return 0
end
local sep = string.find(value, '|', 1, true)
if sep and string.sub(value, sep + 1) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
