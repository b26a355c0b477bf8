"""Server-side scripts of the audit stream: the chained append and the retention trim.

The append links an entry to the newest one *inside Redis*: the script reads the newest entry's
hash, computes the new entry's link hash and adds it, atomically. No writer ever works from a stale
guess of the newest hash, so appends from any number of replicas never lose a race and never need
retrying. Redis' Lua has no SHA-256, so the script carries a small one (Lua 5.1 + the ``bit``
library Redis ships); it hashes only ``prev`` and the content digest the writer computed (128 hex
characters), so its cost is the same whatever the size of the entry.
"""

from __future__ import annotations

from core.audit.chain import GENESIS

_SHA256_LUA = """
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local function sha256hex(msg)
  local bits = #msg * 8
  msg = msg .. '\\128' .. string.rep('\\0', (55 - #msg) % 64) .. '\\0\\0\\0\\0'
    .. string.char(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255),
                   band(rshift(bits, 8), 255), band(bits, 255))
  local H = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
  local W = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do
      local b1, b2, b3, b4 = string.byte(msg, chunk + i * 4, chunk + i * 4 + 3)
      W[i] = bor(lshift(b1, 24), lshift(b2, 16), lshift(b3, 8), b4)
    end
    for i = 16, 63 do
      local w15, w2 = W[i - 15], W[i - 2]
      local s0 = bxor(ror(w15, 7), ror(w15, 18), rshift(w15, 3))
      local s1 = bxor(ror(w2, 17), ror(w2, 19), rshift(w2, 10))
      W[i] = tobit(W[i - 16] + s0 + W[i - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for i = 0, 63 do
      local t1 = tobit(h + bxor(ror(e, 6), ror(e, 11), ror(e, 25))
        + bxor(band(e, f), band(bnot(e), g)) + K[i + 1] + W[i])
      local t2 = tobit(bxor(ror(a, 2), ror(a, 13), ror(a, 22))
        + bxor(band(a, b), band(a, c), band(b, c)))
      h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
    end
    H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
    H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
  end
  local out = {}
  for i = 1, 8 do out[i] = tohex(H[i], 8) end
  return table.concat(out)
end
"""

#: ``EVAL SHA256_PROBE 0 msg`` answers SHA-256 hex of ``msg`` (tests compare it with hashlib).
SHA256_PROBE = _SHA256_LUA + "\nreturn sha256hex(ARGV[1])\n"

# KEYS[1] stream, KEYS[2] the append's marker (``<stream>:eid:<eid>``).
# ARGV: v, kind, eid, data, content digest, marker ttl in seconds.
# Replies {"ok", id} | {"dup", id}: a retried append whose first try got in (its reply was lost)
# finds its marker and is not written twice.
APPEND_LUA = (
    _SHA256_LUA
    + """
local done = redis.call('GET', KEYS[2])
if done then return {'dup', done} end
local prev = 'GENESIS_HASH'
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if newest then
  prev = ''
  local fields = newest[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'hash' then prev = fields[i + 1] end
  end
end
local hash = sha256hex(prev .. ARGV[5])
local id = redis.call('XADD', KEYS[1], '*', 'v', ARGV[1], 'kind', ARGV[2], 'eid', ARGV[3],
  'data', ARGV[4], 'prev', prev, 'hash', hash)
redis.call('SET', KEYS[2], id, 'EX', tonumber(ARGV[6]))
return {'ok', id}
""".replace("GENESIS_HASH", GENESIS)
)

# KEYS[1] stream, KEYS[2] anchor. ARGV[1] the MINID (never above the newest entry's id).
TRIM_LUA = """
local removed = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
if removed > 0 then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  local prev = ''
  local fields = first[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'prev' then prev = fields[i + 1] end
  end
  redis.call('HSET', KEYS[2], 'prev', prev, 'first_id', first[1], 'minid', ARGV[1])
  redis.call('HINCRBY', KEYS[2], 'trimmed', removed)
end
return removed
"""
