-- Renews the time of a claim on an idempotency key, if the key is still this creation's.
-- KEYS: 1 idem
-- ARGV: 1 idempotency key, 2 this creation's claim prefix ('<order member>|')
-- Returns 1 renewed, 0 the claim was taken over.
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and string.sub(held, 1, #ARGV[2]) == ARGV[2] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. string.format('%.0f', now))
  return 1
end
return 0
