-- Claims an idempotency key for a batch about to be created, or takes over a stale claim.
-- A claim is '<order member>|<claimed at, ms on Redis's clock>'.
-- KEYS: 1 idem
-- ARGV: 1 idempotency key, 2 this creation's claim prefix ('<order member>|'),
--       3 stale after (ms), 4 the claim to take over ('' = claim only a free key)
-- Returns {1, '', now} when the key is now this creation's, or {0, held claim, now}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('HGET', KEYS[1], ARGV[1])
-- Taken over only if it is still the claim the caller saw (whose batch it found unwritten)
-- and still stale, so of several callers taking over the same claim exactly one wins.
if held and ARGV[4] ~= '' and held == ARGV[4] then
  local at = tonumber(string.match(held, '|(%d+)$') or '0')
  if now - at >= tonumber(ARGV[3]) then
    held = false
  end
end
if held then
  return {0, held, now}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. string.format('%.0f', now))
return {1, '', now}
