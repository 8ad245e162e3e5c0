-- wrk script for benchmarks/http_bench.py: POSTs prebuilt requests from a file.
--
-- Environment:
--   BENCH_FILE          one request per line: "<value of BENCH_VAR_HEADER>\t<body>"
--   BENCH_PATH          request path
--   BENCH_CONTENT_TYPE  Content-Type of every request
--   BENCH_VAR_HEADER    name of the per-request header (a signature), or empty
--   BENCH_FIXED_HEADER  "Name: value" sent with every request, or empty
--   BENCH_THREADS       wrk's -t, so each thread takes its own share of the lines
--
-- Each thread cycles through its own lines; "wraps" counts how often a thread ran
-- out and started again (so ids were repeated). done() prints one JSON line.

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   local path = os.getenv("BENCH_PATH")
   local var_header = os.getenv("BENCH_VAR_HEADER") or ""
   local fixed = os.getenv("BENCH_FIXED_HEADER") or ""
   local base = { ["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE") }
   if fixed ~= "" then
      local name, value = fixed:match("^([^:]+):%s*(.*)$")
      base[name] = value
   end
   requests_ = {}
   local n = 0
   for line in io.lines(os.getenv("BENCH_FILE")) do
      if n % nthreads == tid then
         local header_value, body = line:match("^([^\t]*)\t(.*)$")
         local headers = {}
         for k, v in pairs(base) do headers[k] = v end
         if var_header ~= "" then headers[var_header] = header_value end
         table.insert(requests_, wrk.format("POST", path, headers, body))
      end
      n = n + 1
   end
   index_ = 0
   wraps = 0
end

function request()
   index_ = index_ + 1
   if index_ > #requests_ then
      index_ = 1
      wraps = wraps + 1
   end
   return requests_[index_]
end

function done(summary, latency, requests)
   local wrapped = 0
   for _, thread in ipairs(threads) do
      wrapped = wrapped + (thread:get("wraps") or 0)
   end
   local e = summary.errors
   io.write(string.format(
      '{"bench": true, "requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"max_us": %d, "non_2xx": %d, "socket_errors": %d, "wraps": %d}\n',
      summary.requests, summary.duration, latency:percentile(50.0), latency:percentile(99.0),
      latency.max, e.status, e.connect + e.read + e.write + e.timeout, wrapped))
end
