-- The bench's distinct HYBRID load point (`bench::cell::distinct_search_script`): a word no
-- document has, unique per thread, request and run, so the result cache never answers.
-- METHOD=TENSOR (or LEXICAL) in the environment changes the method.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local method = os.getenv("METHOD") or "HYBRID"
local ef = method == "LEXICAL" and "" or ',"efSearch":48'
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local n = 0
local run = os.time() % 100000
function request()
  n = n + 1
  return wrk.format(nil, "/indexes/bench/search", nil, string.format(
    '{"q":"red leather running shoes zq%dx%dx%d","searchMethod":"%s","limit":10%s}',
    tid or 0, n, run, method, ef))
end
