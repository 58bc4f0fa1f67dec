-- Shared by the scripts that count answers: setup() numbers each wrk thread (`tid`), and the returned
-- bump(key) adds to the global `counts` that report.lua collects from every thread in done().
return function(threads)
  counts = {}
  function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
  end
  return function(key) counts[key] = (counts[key] or 0) + 1 end
end
