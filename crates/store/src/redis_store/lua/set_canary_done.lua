-- Records that a batch's canary is behind it.
-- KEYS: 1 meta
-- ARGV: 1 now (ms)
-- Returns 1, or 0 when the batch does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'canary_done', '1', 'updated_at', ARGV[1])
return 1
