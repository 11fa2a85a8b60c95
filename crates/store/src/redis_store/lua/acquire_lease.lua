-- Takes a batch's lease, or renews it for its holder. The value is '<until ms>|<holder>';
-- the lease is free when the key has expired (Redis's clock, PX) or its until has passed
-- (the caller's clock).
-- KEYS: 1 lease, 2 meta
-- ARGV: 1 holder, 2 until (ms), 3 ttl (ms), 4 now (ms)
-- Returns 1 held by the caller now, 0 held by another, -1 no such batch.
if redis.call('EXISTS', KEYS[2]) == 0 then
  return -1
end
local value = redis.call('GET', KEYS[1])
if value then
  local sep = string.find(value, '|', 1, true)
  if sep then
    local until_ms = tonumber(string.sub(value, 1, sep - 1))
    local holder = string.sub(value, sep + 1)
    if holder ~= ARGV[1] and until_ms and until_ms > tonumber(ARGV[4]) then
      return 0
    end
  end
end
redis.call('SET', KEYS[1], ARGV[2] .. '|' .. ARGV[1], 'PX', ARGV[3])
return 1
