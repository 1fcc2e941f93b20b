// HTTP/1.1 request parsing: one op = parse one complete request head and prepare for the next,
// as the server does per request. Two requests: wrk's minimal one (the load benchmarks' request)
// and a typical browser navigation (about 500 bytes, 11 fields). Bytes/s is reported as well.

#include "bench_util.hpp"

#include <opensocket/http/parser.hpp>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string_view>

namespace opensocket::bench {
namespace {

constexpr std::string_view wrk_request =
    "GET /plaintext HTTP/1.1\r\n"
    "Host: 127.0.0.1:8888\r\n"
    "\r\n";

constexpr std::string_view browser_request =
    "GET /docs/tutorial.html?lang=en&theme=dark HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "*/*;q=0.8\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Referer: https://www.example.com/docs/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-GB,en;q=0.9\r\n"
    "\r\n";

void bm_http_parse(benchmark::State& state, std::string_view request) {
    http::request_parser parser;
    for (auto _ : state) {
        auto r = parser.parse(request);
        if (!r || *r != http::parse_status::complete) {
            state.SkipWithError("the request did not parse");
            break;
        }
        benchmark::DoNotOptimize(parser.head().target.size());
        parser.next();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(request.size()));
    report_per_op(state);
}
BENCHMARK_CAPTURE(bm_http_parse, wrk, wrk_request)->Name("BM_http_parse/opensocket/wrk");
BENCHMARK_CAPTURE(bm_http_parse, browser, browser_request)
    ->Name("BM_http_parse/opensocket/browser");

}  // namespace
}  // namespace opensocket::bench
