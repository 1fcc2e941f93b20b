-- wrk script for bench/run's pipelined workload: every request() hands wrk 16 GET requests in
-- one buffer, so each connection keeps 16 in flight and wrk counts the 16 responses one by one.
--   wrk -t1 -c64 -d5s -s bench/load/pipeline.lua http://127.0.0.1:PORT/plaintext
-- The depth can be changed with an argument after "--":  ... -- 32

local depth = 16
local batch

function init(args)
    depth = tonumber(args[1]) or depth
    local one = wrk.format("GET", wrk.path)
    batch = string.rep(one, depth)
end

function request()
    return batch
end
