-- One page of batches, newest first, after the batch whose order member is given.
-- KEYS: 1 batches
-- ARGV: 1 order member of the last batch of the previous page ('' = from the newest), 2 limit
-- Returns the order members of the page (empty when the given batch is not listed).
local start = 0
if ARGV[1] ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
  if not rank then
    return {}
  end
  start = rank + 1
end
return redis.call('ZREVRANGE', KEYS[1], start, start + tonumber(ARGV[2]) - 1)
