-- Charges an ended request's execution time, less what was reserved for it at admission.
-- KEYS: execution TAT. ARGV: cost (us), reserved (us), key ttl (ms)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local reserved = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if reserved == 0 then
  tat = math.max(tat, now)
end
redis.call('SET', KEYS[1], string.format('%.0f', tat + cost - reserved), 'PX', ARGV[3])
return 1
