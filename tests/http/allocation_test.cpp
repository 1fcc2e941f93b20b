// Steady state allocates nothing: once a parser has seen a request, parsing the next ones
// (head, chunked body, trailers) makes no heap allocation. Counted by replacing the global
// operator new of this test binary.

#include <opensocket/http/body.hpp>
#include <opensocket/http/parser.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>

#if defined(__GNUC__) && !defined(__clang__)
// g++ 12 pairs the inlined replacement new with std::free and warns falsely.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<long> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace http = opensocket::http;
using http::parse_status;

TEST(Allocation, SteadyStateParsingAllocatesNothing) {
    const std::string request =
        "POST /echo HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nAccept: */*\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n";
    http::request_parser p;
    http::body_decoder body;
    auto run_one = [&] {
        std::string_view rest = request;
        auto r = p.parse(rest);
        if (!r || *r != parse_status::complete) return false;
        body.start(p.head().body);
        rest.remove_prefix(p.head().size);
        auto step = body.next(rest);
        while (step && !step->done) {
            rest.remove_prefix(step->consumed);
            step = body.next(rest);
        }
        p.next();
        return step.has_value();
    };
    ASSERT_TRUE(run_one());  // warm-up: the field table grows once
    const long before = allocations.load();
    bool ok = true;
    for (int i = 0; i < 100; ++i) ok = run_one() && ok;
    const long during = allocations.load() - before;
    EXPECT_TRUE(ok);
    EXPECT_EQ(during, 0);
}

}  // namespace
