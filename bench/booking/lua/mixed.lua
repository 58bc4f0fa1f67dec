-- wrk script: the capacity bench's mixed workload (bench/capacity/). Input lines, tab-separated:
--   "R\t<path>"            an anonymous directory or slot read
--   "H\t<slot_id>\t<token>" a slot a patient holds and lets go again (the lines are used in a loop)
--   "B\t<slot_id>\t<token>" a slot a patient books, each once (the patient is free at that time)
-- Every request is drawn: 70 % a read, 20 % the hold path, 10 % a booking. A hold-path draw releases the
-- oldest hold this thread placed (DELETE /holds/{id}) when there is one, and places a new one otherwise,
-- so holds and releases take turns and no patient reaches the cap of 3 live holds. A booking is one
-- POST /appointments {slot_id} (API.md: hold and book in one step). When the booking lines run out the
-- thread stops and the run reports its own active time.
-- Each request carries an X-Request-ID naming its kind (the app echoes it), so every answer is counted
-- as "<kind>_<status>[_<code>]" and timed per kind; done() prints the usual BENCHJSON line and a
-- BENCHKINDS line of per-kind percentiles for bench/booking/wrk.py.
local threads = {}
local reads, holdable, bookable = {}, {}, {}
local next_read, next_hold, next_book = 1, 1, 1
local releases, head, tail = {}, 1, 0
local sent, holder, serial = {}, {}, 0  -- by request id: when it was sent; whose hold it asks for
local clock = dofile(os.getenv("BENCH_LUA_DIR") .. "/clock.lua")
local first_us
-- Latencies in microseconds, one flat global per kind (wrk copies a thread's flat tables to done()).
lat_read, lat_hold, lat_release, lat_book = {}, {}, {}, {}
active_us = 0

local bump = dofile(os.getenv("BENCH_LUA_DIR") .. "/counted.lua")(threads)

-- args: the request file and the number of wrk threads; thread `tid` takes every nth H and B line.
function init(args)
  local n, me, all = 0, (tid or 1) - 1, tonumber(args[2] or "1")
  for line in io.lines(args[1]) do
    local kind, a, b = line:match("^(%a)\t([^\t]+)\t?(.*)$")
    if kind == "R" then
      reads[#reads + 1] = a
    elseif n % all == me then
      local list = kind == "H" and holdable or bookable
      list[#list + 1] = { slot = a, token = b }
    end
    n = n + 1
  end
  math.randomseed(7919 * (tid or 1))
  next_read = ((tid or 1) - 1) * 997 % #reads + 1
end

local function send(kind, method, path, token, body)
  serial = serial + 1
  local id = string.format("bench-%s-%d-%d", kind, tid or 1, serial)
  sent[id] = clock()
  if kind == "hold" then holder[id] = token end
  local headers = { ["Accept"] = "application/json", ["X-Request-ID"] = id }
  if token then headers["Authorization"] = "Bearer " .. token end
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body)
end

local function hold_path()
  if head <= tail then
    local item = releases[head]
    releases[head] = nil
    head = head + 1
    return send("release", "DELETE", "/api/v1/holds/" .. item.hold, item.token)
  end
  local item = holdable[next_hold]
  next_hold = next_hold % #holdable + 1
  return send("hold", "POST", "/api/v1/holds", item.token, '{"slot_id": ' .. item.slot .. '}')
end

local function booking()
  if next_book > #bookable then
    bump("stopped_when_exhausted")
    wrk.thread:stop()
    return wrk.format("GET", "/healthz")
  end
  local item = bookable[next_book]
  next_book = next_book + 1
  return send("book", "POST", "/api/v1/appointments", item.token, '{"slot_id": ' .. item.slot .. '}')
end

function request()
  first_us = first_us or clock()
  local draw = math.random(100)
  if draw <= 70 then
    local path = reads[next_read]
    next_read = next_read % #reads + 1
    return send("read", "GET", path)
  elseif draw <= 90 then
    return hold_path()
  end
  return booking()
end

function response(status, headers, body)
  local now = clock()
  active_us = now - first_us
  local id = headers["X-Request-ID"] or headers["x-request-id"] or ""
  local kind = id:match("^bench%-(%a+)%-")
  if not kind then
    bump("unmatched_" .. status)
    return
  end
  local times = _G["lat_" .. kind]
  times[#times + 1] = now - sent[id]
  sent[id] = nil
  local token = holder[id]
  holder[id] = nil
  if status < 300 then
    bump(kind .. "_" .. status)
    local hold = kind == "hold" and (body:match('"hold_id"%s*:%s*"([^"]+)"') or body:match('"hold_id"%s*:%s*(%d+)'))
    if hold then
      tail = tail + 1
      releases[tail] = { hold = hold, token = token }
    end
  else
    local code = body and body:match('"code"%s*:%s*"([%w_]+)"') or "none"
    bump(kind .. "_" .. status .. "_" .. code)
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * p / 100))]
end

local report = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
function done(summary, latency, reqs)
  report(summary, latency, threads)
  local parts = {}
  for _, kind in ipairs({ "read", "hold", "release", "book" }) do
    local all = {}
    for _, thread in ipairs(threads) do
      for _, v in ipairs(thread:get("lat_" .. kind) or {}) do all[#all + 1] = v end
    end
    table.sort(all)
    parts[#parts + 1] = string.format('"%s":{"n":%d,"p50_us":%d,"p99_us":%d}', kind, #all,
      percentile(all, 50), percentile(all, 99))
  end
  io.write("BENCHKINDS {" .. table.concat(parts, ",") .. "}\n")
end
