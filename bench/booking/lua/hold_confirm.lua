-- wrk script: hold a free future slot (POST /api/v1/holds), then confirm that hold
-- (POST /api/v1/appointments {hold_id}) as the same patient. Input lines: "<slot_id>\t<bearer token>",
-- each slot once. A thread answers a hold with its confirmation on whichever of its connections asks
-- next; when its slots run out and no confirmation is due it stops (the run is bounded by count and time).
local threads = {}
local pool = {}
local next_slot = 1
local queue, head, tail = {}, 1, 0
local token_of = {}
local clock = dofile(os.getenv("BENCH_LUA_DIR") .. "/clock.lua")
local first_us
active_us = 0  -- from the first request to the last response: wrk's own duration ignores an early stop

local bump = dofile(os.getenv("BENCH_LUA_DIR") .. "/counted.lua")(threads)

-- args: the pool file and the number of wrk threads; thread `tid` takes every nth line.
function init(args)
  local n, me, all = 0, (tid or 1) - 1, tonumber(args[2] or "1")
  for line in io.lines(args[1]) do
    if n % all == me then
      local slot, token = line:match("^(%d+)\t(.*)$")
      pool[#pool + 1] = { slot = slot, token = token }
    end
    n = n + 1
  end
end

local function post(path, token, body)
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json", ["Accept"] = "application/json" }, body)
end

function request()
  first_us = first_us or clock()
  if head <= tail then
    local item = queue[head]
    queue[head] = nil
    head = head + 1
    bump("confirm_sent")
    return post("/api/v1/appointments", item.token, '{"hold_id": ' .. item.hold .. '}')
  end
  if next_slot > #pool then
    bump("stopped_when_exhausted")
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local item = pool[next_slot]
  next_slot = next_slot + 1
  token_of[item.slot] = item.token
  bump("hold_sent")
  return post("/api/v1/holds", item.token, '{"slot_id": ' .. item.slot .. '}')
end

function response(status, headers, body)
  active_us = clock() - first_us
  if status == 201 then
    local hold = body:match('"hold_id"%s*:%s*("[^"]*")') or body:match('"hold_id"%s*:%s*(%d+)')
    local slot = body:match('"slot_id"%s*:%s*(%d+)')
    if hold and body:find('"expires_at"', 1, true) and not body:find('"patient"', 1, true) then
      bump("hold_201")
      if slot and token_of[slot] then
        tail = tail + 1
        queue[tail] = { hold = hold, token = token_of[slot] }
        token_of[slot] = nil
      else
        bump("hold_201_unmatched")
      end
    else
      bump("confirm_201")
    end
  else
    local code = body and body:match('"code"%s*:%s*"([%w_]+)"') or "none"
    bump(tostring(status) .. "_" .. code)
  end
end

local report = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
function done(summary, latency, reqs)
  report(summary, latency, threads)
end
