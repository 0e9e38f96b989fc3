-- wrk script for the side-by-side benchmark (benches/compare/run.sh).
--
-- `wrk ... -s paths.lua URL -- PATHS_FILE`: every request takes the next path of PATHS_FILE (one
-- request path a line), so consecutive requests ask for different windows, ids or pages instead
-- of the same cached answer. Each wrk thread starts at its own point of the list so that threads
-- do not walk in step. An `Authorization` header, when the harness gives one in the environment
-- (QL_AUTH), goes on every request: it is read here rather than passed with -H so that the
-- session token does not show in the process list.
--
-- No `response` hook: it would copy every body into Lua, and wrk shares the CPUs with the
-- servers. Non-2xx/3xx answers are counted by wrk itself (errors.status); the harness probes
-- each kind once before loading it, so a refusal shows before the run.
--
-- `done` prints one line, `WRK_JSON {...}`, with the counts and latency percentiles in
-- microseconds, which the harness parses (wrk's own text report rounds them).

local paths = {}
local i = 0

-- Numbers each thread (in the main Lua state, before the threads start).
local next_id = 1
function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
end

function init(args)
   local file = args[1]
   if file == nil then
      error("paths.lua: give the paths file after --")
   end
   for line in io.lines(file) do
      if line ~= "" then
         table.insert(paths, line)
      end
   end
   if #paths == 0 then
      error("paths.lua: no paths in " .. file)
   end
   -- Spread the threads' starting points over the list (a prime stride, as a thread does not
   -- know how many others there are).
   i = ((id or 1) - 1) * 7919 % #paths
   local auth = os.getenv("QL_AUTH")
   if auth ~= nil and auth ~= "" then
      wrk.headers["Authorization"] = auth
   end
end

function request()
   i = i % #paths + 1
   return wrk.format("GET", paths[i])
end

function done(summary, latency, requests)
   local pcts = {}
   for _, p in ipairs({ 50, 90, 99, 99.9 }) do
      table.insert(pcts, string.format('"%s": %d', tostring(p), latency:percentile(p)))
   end
   local e = summary.errors
   io.write(string.format(
      'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"mean": %.1f, "max": %d, "percentiles": {%s}}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.mean, latency.max, table.concat(pcts, ", ")))
end
