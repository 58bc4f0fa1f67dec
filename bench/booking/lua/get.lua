-- wrk script: GET requests read from a file, one per line: "<path>\t<bearer token or ->".
-- The requests are built once in init() and replayed in order (the file is already shuffled);
-- each status is counted, and done() prints one JSON line for bench/booking/wrk.py.
local threads = {}
local requests = {}
local index = 1
counts = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  for line in io.lines(args[1]) do
    local path, token = line:match("^([^\t]+)\t(.*)$")
    local headers = { ["Accept"] = "application/json" }
    if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
    requests[#requests + 1] = wrk.format("GET", path, headers, nil)
  end
  index = ((tid or 1) - 1) * 997 % #requests + 1
end

function request()
  local r = requests[index]
  index = index % #requests + 1
  return r
end

function response(status, headers, body)
  local key = tostring(status)
  counts[key] = (counts[key] or 0) + 1
end

local report = dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
function done(summary, latency, reqs)
  report(summary, latency, threads)
end
