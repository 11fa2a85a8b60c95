-- Frees an idempotency key if it still names the batch whose creation failed.
-- KEYS: 1 idem
-- ARGV: 1 idempotency key, 2 batch id
-- Returns 1 freed, 0 it names another batch (or none).
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
