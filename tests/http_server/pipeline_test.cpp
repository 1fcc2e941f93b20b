// Pipelining: many requests in one write are all answered, in order; requests split at random
// byte positions across many writes are reassembled exactly.

#include <harness.hpp>

#include <random>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

http::router pipeline_routes() {
    http::router r = basic_routes();
    for (int i = 0; i < 8; ++i) r.get("/t" + std::to_string(i), target);
    return r;
}

std::string numbered_request(int i) {
    // Targets carry the index in the query (same route), so the order is checked per response.
    return "GET /t" + std::to_string(i % 8) + "?i=" + std::to_string(i) +
           " HTTP/1.1\r\nHost: a\r\nUser-Agent: pipeline-test\r\n\r\n";
}

std::string numbered_target(int i) {
    return "/t" + std::to_string(i % 8) + "?i=" + std::to_string(i);
}

task<> read_numbered(raw_client& c, int n, int& answered) {
    for (int i = 0; i < n; ++i) {
        auto r = co_await c.next();
        EXPECT_TRUE(r) << "response " << i << " of " << n;
        if (!r) co_return;
        if (r->status != 200 || r->body != numbered_target(i)) {
            ADD_FAILURE() << "response " << i << ": " << r->status << " " << r->body;
            co_return;
        }
        ++answered;
    }
}

task<> write_all_at_once(raw_client& c, std::string bytes) { co_await c.send(bytes); }

task<> burst_in_one_write(raw_client& c, int n) {
    std::string all;
    for (int i = 0; i < n; ++i) all += numbered_request(i);
    int answered = 0;
    co_await when_all(write_all_at_once(c, std::move(all)), read_numbered(c, n, answered));
    EXPECT_EQ(answered, n);
    EXPECT_TRUE(c.pending().empty());
}

TEST(pipelining, fifty_requests_in_one_write_are_answered_in_order) {
    serve(pipeline_routes(), test_config(), burst_in_one_write, 50);
}

TEST(pipelining, ten_thousand_requests_in_one_write_are_answered_in_order) {
    serve(pipeline_routes(), test_config(), burst_in_one_write, 10'000);
}

/// Writes `bytes` in pieces of 1..max_piece bytes (cut at random positions), letting the
/// executor run (and the server read) between pieces.
task<> write_in_random_pieces(raw_client& c, std::string bytes, uint32_t seed,
                              std::size_t max_piece) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<std::size_t> piece(1, max_piece);
    std::size_t at = 0;
    while (at < bytes.size()) {
        std::size_t n = std::min(piece(rng), bytes.size() - at);
        if (!co_await c.send(std::string_view(bytes).substr(at, n))) co_return;
        at += n;
        (void)co_await sleep_for(0ms);  // a loop turn: the server reads what has arrived so far
    }
}

task<> random_splits(raw_client& c, int n, uint32_t seed) {
    std::string all;
    for (int i = 0; i < n; ++i) all += numbered_request(i);
    int answered = 0;
    co_await when_all(write_in_random_pieces(c, std::move(all), seed, 97),
                      read_numbered(c, n, answered));
    EXPECT_EQ(answered, n) << "seed " << seed;
}

TEST(pipelining, thousand_requests_split_at_random_positions) {
    for (uint32_t seed : {1u, 2u, 3u})
        serve(pipeline_routes(), test_config(), random_splits, 1000, seed);
}

task<> random_splits_with_bodies(raw_client& c, int n, uint32_t seed) {
    // POSTs with Content-Length and chunked bodies interleaved with GETs, split at random.
    std::string all;
    std::vector<std::string> expected;
    for (int i = 0; i < n; ++i) {
        std::string body =
            "body-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 37), 'z');
        switch (i % 3) {
            case 0:
                all += "GET /echo?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
                expected.push_back("GET /echo?i=" + std::to_string(i) + "\n");
                break;
            case 1:
                all += "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body;
                expected.push_back("POST /echo\n" + body);
                break;
            default: {
                std::string half = body.substr(0, body.size() / 2);
                std::string rest = body.substr(body.size() / 2);
                char hex[2][16];
                std::snprintf(hex[0], sizeof hex[0], "%zx", half.size());
                std::snprintf(hex[1], sizeof hex[1], "%zx", rest.size());
                all += "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
                all += std::string(hex[0]) + ";ext=1\r\n" + half + "\r\n";
                all += std::string(hex[1]) + "\r\n" + rest + "\r\n0\r\nX-Trailer: t\r\n\r\n";
                expected.push_back("POST /echo\n" + body);
                break;
            }
        }
    }
    int answered = 0;
    struct reader {
        static task<> run(raw_client& cl, const std::vector<std::string>& want, int& count) {
            for (std::size_t i = 0; i < want.size(); ++i) {
                auto r = co_await cl.next();
                EXPECT_TRUE(r) << "response " << i;
                if (!r) co_return;
                if (r->body != want[i]) {
                    ADD_FAILURE() << "response " << i << ": got '" << r->body << "' want '"
                                  << want[i] << "'";
                    co_return;
                }
                ++count;
            }
        }
    };
    co_await when_all(write_in_random_pieces(c, std::move(all), seed, 61),
                      reader::run(c, expected, answered));
    EXPECT_EQ(answered, n) << "seed " << seed;
}

TEST(pipelining, mixed_bodies_split_at_random_positions) {
    for (uint32_t seed : {7u, 8u})
        serve(pipeline_routes(), test_config(), random_splits_with_bodies, 600, seed);
}

task<> byte_by_byte(raw_client& c) {
    std::string all;
    for (int i = 0; i < 5; ++i) all += numbered_request(i);
    all +=
        "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3;a=b\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n";
    int answered = 0;
    struct reader {
        static task<> run(raw_client& cl, int& count) {
            co_await read_numbered(cl, 5, count);
            auto r = co_await cl.next();
            EXPECT_TRUE(r);
            if (r) {
                EXPECT_EQ(r->body, "POST /echo\nabcde");
            }
        }
    };
    co_await when_all(write_in_random_pieces(c, std::move(all), 1, 1), reader::run(c, answered));
    EXPECT_EQ(answered, 5);
}

TEST(pipelining, requests_written_one_byte_at_a_time) {
    serve(pipeline_routes(), test_config(), byte_by_byte);
}

task<> mixed_outcomes(raw_client& c) {
    // Every kind of non-error outcome in one write: they come back in request order.
    co_await c.send(
        "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n"
        "HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"
        "DELETE /hello HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
    auto a = co_await c.next();
    auto b = co_await c.next();
    auto h = co_await c.next(true);
    auto d = co_await c.next();
    auto e = co_await c.next();
    auto s = co_await c.next();
    EXPECT_TRUE(a && b && h && d && e && s);
    if (!a || !b || !h || !d || !e || !s) co_return;
    EXPECT_EQ(a->body, "Hello, World!");
    EXPECT_EQ(b->status, 404);
    EXPECT_EQ(h->status, 200);
    EXPECT_TRUE(h->body.empty());
    EXPECT_EQ(d->status, 405);
    EXPECT_EQ(e->body, "POST /echo\nxyz");
    EXPECT_EQ(s->body, "6");
}

TEST(pipelining, mixed_outcomes_come_back_in_request_order) {
    serve(pipeline_routes(), test_config(), mixed_outcomes);
}

}  // namespace
