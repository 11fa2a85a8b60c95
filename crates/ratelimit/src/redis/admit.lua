-- Admits one request of an application user if both shared budgets allow it now.
-- KEYS: requests TAT, execution TAT, pause-until (all microseconds on Redis's clock)
-- ARGV: request period (us), request burst, execution reserve (us), execution allowance (us), key ttl (ms)
-- Returns {1, 0, requests left, execution left (us of wall time)} when admitted, or {0, wait_us, 0, 0}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local pause = tonumber(redis.call('GET', KEYS[3]) or '0')
if pause > now then
  return {0, pause - now, 0, 0}
end
local period = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local reserve = tonumber(ARGV[3])
local allow = tonumber(ARGV[4])
local ttl = ARGV[5]
local tat_r = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
local tolerance = period * (burst - 1)
if tat_r - now > tolerance then
  return {0, tat_r - now - tolerance, 0, 0}
end
local tat_e = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), now)
if tat_e - now > allow then
  return {0, tat_e - now - allow, 0, 0}
end
redis.call('SET', KEYS[1], string.format('%.0f', tat_r + period), 'PX', ttl)
redis.call('SET', KEYS[2], string.format('%.0f', tat_e + reserve), 'PX', ttl)
local left_r = math.floor((tolerance - (tat_r + period - now)) / period) + 1
local left_e = allow - (tat_e + reserve - now)
return {1, 0, math.max(left_r, 0), math.max(left_e, 0)}
