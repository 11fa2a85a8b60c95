-- Pauses every process using this application user until Retry-After has passed; a shorter
-- pause never shortens a longer one. KEYS: pause-until. ARGV: retry after (us), key ttl (ms)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untill = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untill > current then
  redis.call('SET', KEYS[1], string.format('%.0f', untill), 'PX', ARGV[2])
end
return 1
