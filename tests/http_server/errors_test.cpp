// Framing errors and limits: each is answered with its status code and `Connection: close`, then
// the connection is closed, and a valid request pipelined behind it is never answered.

#include <harness.hpp>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

struct error_case {
    const char* name;
    std::string request;
    int status;
};

std::ostream& operator<<(std::ostream& os, const error_case& c) { return os << c.name; }

http::server_config small_limits() {
    http::server_config cfg = test_config();
    cfg.limits.max_request_line = 256;
    cfg.limits.max_header_bytes = 2048;
    cfg.limits.max_header_count = 20;
    cfg.limits.max_body_size = 4096;
    return cfg;
}

std::vector<error_case> error_cases() {
    const std::string get = "GET /hello HTTP/1.1\r\nHost: a\r\n";
    const std::string post = "POST /echo HTTP/1.1\r\nHost: a\r\n";
    std::string many_fields = get;
    for (int i = 0; i < 25; ++i) many_fields += "X-F" + std::to_string(i) + ": v\r\n";
    return {
        {"content_length_and_transfer_encoding",
         post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
         400},
        {"differing_content_lengths", post + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
         400},
        {"content_length_with_sign", post + "Content-Length: +3\r\n\r\nabc", 400},
        {"obs_fold", get + "X-Folded: a\r\n  continued\r\n\r\n", 400},
        {"bare_cr_in_field", get + "X-A: a\rb\r\n\r\n", 400},
        {"bare_lf_line_ending", "GET /hello HTTP/1.1\nHost: a\n\n", 400},
        {"nul_in_field_value", get + std::string("X-A: a\0b\r\n\r\n", 12), 400},
        {"invalid_header_name", get + "X(A): v\r\n\r\n", 400},
        {"space_before_colon", get + "X-A : v\r\n\r\n", 400},
        {"field_line_without_colon", get + "NoColonHere\r\n\r\n", 400},
        {"missing_host", "GET /hello HTTP/1.1\r\n\r\n", 400},
        {"two_hosts", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"invalid_request_line", "GET  /hello HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"invalid_version_syntax", "GET /hello http/1.1\r\nHost: a\r\n\r\n", 400},
        {"invalid_chunk_size", post + "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
         400},
        {"chunk_size_overflow",
         post + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n", 400},
        {"chunk_data_without_crlf",
         post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400},
        {"invalid_chunk_extension",
         post + "Transfer-Encoding: chunked\r\n\r\n3;=x\r\nabc\r\n0\r\n\r\n", 400},
        {"request_line_too_long", "GET /" + std::string(300, 'u') + " HTTP/1.1\r\nHost: a\r\n\r\n",
         414},
        {"head_too_large", get + "X-Big: " + std::string(3000, 'h') + "\r\n\r\n", 431},
        {"too_many_fields", many_fields + "\r\n", 431},
        {"body_too_large", post + "Content-Length: 5000\r\n\r\n" + std::string(5000, 'b'), 413},
        {"unknown_method", "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501},
        {"unknown_transfer_coding", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
         501},
        {"http_2_0", "GET /hello HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"http_0_9_style_version", "GET /hello HTTP/0.9\r\nHost: a\r\n\r\n", 505},
    };
}

task<> error_then_request(raw_client& c, std::string bad, int status) {
    // The bad request with a valid one behind it, in one write.
    bad += "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n";
    co_await c.send(bad);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, status) << r->raw;
    EXPECT_EQ(r->reason, http::reason_phrase(status));
    EXPECT_TRUE(r->closes()) << r->raw;
    EXPECT_TRUE(r->header("Date"));
    EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size()));
    std::string rest = co_await c.read_to_eof();
    EXPECT_EQ(rest, "") << "the request after a framing error was answered";
    EXPECT_TRUE(c.saw_eof()) << "the connection was not closed";
}

class framing_error : public ::testing::TestWithParam<error_case> {};

TEST_P(framing_error, is_answered_with_its_status_then_the_connection_closes) {
    serve(basic_routes(), small_limits(), error_then_request, GetParam().request,
          GetParam().status);
}

std::string case_name(const ::testing::TestParamInfo<error_case>& p) { return p.param.name; }

INSTANTIATE_TEST_SUITE_P(http_server, framing_error, ::testing::ValuesIn(error_cases()), case_name);

task<> good_then_bad(raw_client& c) {
    // Requests before the error are answered normally, in order; nothing after it.
    co_await c.send(
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
        "GET /seq HTTP/1.1\r\nHost: a\r\n\r\n");
    auto a = co_await c.next();
    auto b = co_await c.next();
    auto e = co_await c.next();
    EXPECT_TRUE(a && b && e);
    if (!a || !b || !e) co_return;
    EXPECT_EQ(a->body, "1");
    EXPECT_FALSE(a->closes());
    EXPECT_EQ(b->body, "2");
    EXPECT_EQ(e->status, 400);
    EXPECT_TRUE(e->closes());
    std::string rest = co_await c.read_to_eof();
    EXPECT_EQ(rest, "");
    EXPECT_TRUE(c.saw_eof());
}

TEST(framing_errors, requests_before_the_error_are_answered_and_none_after) {
    serve(basic_routes(), small_limits(), good_then_bad);
}

task<> error_after_split_head(raw_client& c) {
    // The error is found when the offending bytes arrive, not only at the end of the head.
    co_await c.send("GET /hello HTTP/1.1\r\nHost: a\r\nX-A: ok\r\n");
    const std::string_view nul_value("X-B: bad\0value", 14);
    co_await c.send(nul_value);
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(r->closes());
    EXPECT_TRUE(co_await c.closed_by_server());
}

TEST(framing_errors, error_in_an_unfinished_head_is_answered_at_once) {
    serve(basic_routes(), small_limits(), error_after_split_head);
}

/// Writes without failing the test: the server may stop reading once it has answered.
task<> send_quietly(tcp_stream& s, std::string bytes) {
    auto w = co_await s.write_all(bytes).before(clock::now() + client_patience);
    (void)w;
}

task<> read_431(raw_client& c, bool& ok) {
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 431);
    EXPECT_TRUE(r->closes());
    std::string rest = co_await c.read_to_eof();
    EXPECT_EQ(rest, "");
    ok = c.saw_eof();
}

task<> megabyte_head(raw_client& c) {
    std::string head = "GET /hello HTTP/1.1\r\nHost: a\r\n";
    while (head.size() < (1u << 20)) head += "X-Filler: " + std::string(1000, 'f') + "\r\n";
    head += "\r\n";
    bool ok = false;
    co_await when_all(send_quietly(c.stream(), std::move(head)), read_431(c, ok));
    EXPECT_TRUE(ok);
}

TEST(framing_errors, one_megabyte_head_with_default_limits_is_431) {
    serve(basic_routes(), test_config(), megabyte_head);
}

task<> endless_request_line(raw_client& c) {
    // A request line that never ends: 414 once it crosses the limit (default limits).
    std::string line = "GET /" + std::string(100'000, 'a');
    bool ok = false;
    struct reader {
        static task<> run(raw_client& cl, bool& done) {
            auto r = co_await cl.next();
            EXPECT_TRUE(r);
            if (r) {
                EXPECT_EQ(r->status, 414);
            }
            done = co_await cl.closed_by_server();
        }
    };
    co_await when_all(send_quietly(c.stream(), std::move(line)), reader::run(c, ok));
    EXPECT_TRUE(ok);
}

TEST(framing_errors, endless_request_line_is_414) {
    serve(basic_routes(), test_config(), endless_request_line);
}

}  // namespace
