-- Frees an idempotency key if it is still claimed by the creation that failed.
-- KEYS: 1 idem
-- ARGV: 1 idempotency key, 2 that creation's claim prefix ('<order member>|')
-- Returns 1 freed, 0 it is claimed by another creation (or by none).
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and string.sub(held, 1, #ARGV[2]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
