"""The Lua script that commits a batch of routing decisions: claims, then the state.

Its own module so that the store (acd.adapters.redis.routing_store) reads as Python;
the keys it writes are listed in the store's docstring."""

from __future__ import annotations

# One script commits a batch: claim operations in order, then the state's records.
# KEYS: meta, agents, calls, queues, the same four held back (see below), then the agent
# key and call key per operation.
# ARGV: ttl ms, release channel, owner, save (0 no, 1 the records, 2 replace everything
# by them), version, period, seq (empty: meta unchanged); then the operations,
# "op<NUL>agent<NUL>call<NUL>" each; then the agents', callers' and queues' records,
# "field<NUL>JSON<NUL>" each (empty JSON: delete); then held ("1": this process held
# records back earlier, apply them first; "0": any held records are a dead process's).
# One packed argument per list, not three per item: the client library encodes every
# argument and parses every reply element in Python, which cost more than the script
# itself. JSON never holds a raw NUL; a name that does is refused.
# Ops: c claim (bind both), r reserve (the agent only: ring all), a bind at the answer
# (as c, but the answer happened anyway: a refusal does not hold the state back),
# x release, e extend expiry. Returns "1" (saved), "h" (held back: a claim was refused)
# or "0" (nothing to save), then each operation's result, as 0/1 characters.
# Held back: the records go to the held hashes, not the live ones, so Redis never shows a
# ring that was not claimed; the engine's answer to the refusal comes with the next
# round trip, which applies them and then its own records. So that trip carries only the
# answer's records, not the whole batch again.
COMMIT_LUA = """
local function fields(packed)
  local out, at = {}, 1
  while at <= #packed do
    local nul = string.find(packed, '\\0', at, true)
    out[#out + 1] = string.sub(packed, at, nul - 1)
    at = nul + 1
  end
  return out
end
local function write(hash, records, keep_deletions)
  for j = 1, #records, 2 do
    if records[j + 1] == '' and not keep_deletions then
      redis.call('HDEL', hash, records[j])
    else
      redis.call('HSET', hash, records[j], records[j + 1])
    end
  end
end
local ttl, channel, owner, save = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ops = fields(ARGV[8])
local out, refused = {'0'}, false
for i = 1, #ops / 3 do
  local op, agent, call = ops[3 * i - 2], ops[3 * i - 1], ops[3 * i]
  local akey, ckey = KEYS[2 * i + 7], KEYS[2 * i + 8]
  local my_call, my_agent = call .. '\t' .. owner, agent .. '\t' .. owner
  local both = redis.call('MGET', akey, ckey)
  local held, bound = both[1], both[2]
  local free = (not held or held == my_call) and (not bound or bound == my_agent)
  local ok = '0'
  if (op == 'c' or op == 'a') and free then
    redis.call('SET', akey, my_call, 'PX', ttl)
    redis.call('SET', ckey, my_agent, 'PX', ttl)
    ok = '1'
  elseif op == 'r' and free then
    redis.call('SET', akey, my_call, 'PX', ttl)
    ok = '1'
  elseif op == 'x' then
    if held == my_call and bound == my_agent then
      redis.call('DEL', akey, ckey)
    elseif held == my_call then
      redis.call('DEL', akey)
    elseif bound == my_agent then
      redis.call('DEL', ckey)
    end
    if held == my_call then
      redis.call('PUBLISH', channel, agent)
      ok = '1'
    end
  elseif op == 'e' and held == my_call then
    redis.call('PEXPIRE', akey, ttl)
    if bound == my_agent then redis.call('PEXPIRE', ckey, ttl) end
    ok = '1'
  end
  if ok == '0' and (op == 'c' or op == 'r') then refused = true end
  out[i + 1] = ok
end
if save ~= '0' then
  local base = 0
  if refused then
    base = 4
    if ARGV[12] ~= '1' then redis.call('DEL', KEYS[5], KEYS[6], KEYS[7], KEYS[8]) end
    out[1] = 'h'
  else
    if save == '2' then
      redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
    elseif ARGV[12] == '1' then
      for section = 1, 4 do
        local records = redis.call('HGETALL', KEYS[section + 4])
        if section == 1 then
          if #records > 0 then redis.call('HSET', KEYS[1], unpack(records)) end
        else
          write(KEYS[section], records, false)
        end
      end
      redis.call('DEL', KEYS[5], KEYS[6], KEYS[7], KEYS[8])
    end
    out[1] = '1'
  end
  if ARGV[5] ~= '' then
    redis.call('HSET', KEYS[base + 1], 'version', ARGV[5], 'period', ARGV[6], 'seq', ARGV[7])
  end
  for section = 2, 4 do
    write(KEYS[base + section], fields(ARGV[section + 7]), refused)
  end
end
return table.concat(out)
"""
