// The wire format of responses: status line, Date (IMF-fixdate), Server, Content-Length,
// Content-Type when set, and a handler's extra header fields.

#include <harness.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <regex>
#include <sstream>

using namespace opensocket;
using namespace opensocket::http_testing;

namespace {

task<http::response> custom(http::request&) {
    http::response r;
    r.status = 201;
    r.content_type = "application/json";
    r.body = R"({"ok":true})";
    r.headers.emplace_back("X-Request-Id", "abc123");
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Set-Cookie", "a=1");
    r.headers.emplace_back("Set-Cookie", "b=2");
    co_return r;
}

task<http::response> untyped(http::request&) {
    http::response r;
    r.status = 204;
    r.content_type = {};
    co_return r;
}

task<http::response> big_owned(http::request&) {
    http::response r;
    r.body.assign(100'000, 'x');
    for (std::size_t i = 0; i < r.body.size(); i += 1000)
        r.body[i] = static_cast<char>('a' + i % 26);
    co_return r;
}

std::string sized_body(std::size_t size) {
    std::string body(size, 'b');
    for (std::size_t i = 0; i < size; i += 7) body[i] = static_cast<char>('a' + i % 26);
    return body;
}

// GET /sized?N: a plain-function handler answering N bytes.
http::response sized(http::request& req) {
    http::response r;
    r.body = sized_body(std::stoul(std::string(req.head.query())));
    return r;
}

http::router response_routes() {
    http::router r = basic_routes();
    r.get("/custom", custom);
    r.get("/untyped", untyped);
    r.get("/big", big_owned);
    r.get("/sized", sized);
    return r;
}

/// Seconds between an IMF-fixdate and now; -1 if it does not parse. (std::get_time and
/// <chrono>'s calendar rather than strptime/timegm, which Windows lacks.)
long seconds_from_now(const std::string& date) {
    std::tm tm{};
    std::istringstream in(date);
    in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
    if (in.fail() || in.peek() != std::char_traits<char>::eof()) return -1;
    using namespace std::chrono;
    sys_seconds t = sys_days{year{tm.tm_year + 1900} / (tm.tm_mon + 1) / tm.tm_mday} +
                    hours{tm.tm_hour} + minutes{tm.tm_min} + seconds{tm.tm_sec};
    return std::labs(static_cast<long>(duration_cast<seconds>(system_clock::now() - t).count()));
}

task<> standard_fields(raw_client& c) {
    co_await c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->raw.substr(0, 17), "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(r->count("Date"), 1u);
    EXPECT_EQ(r->count("Server"), 1u);
    EXPECT_EQ(r->count("Content-Length"), 1u);
    EXPECT_EQ(r->count("Content-Type"), 1u);
    EXPECT_EQ(r->count("Connection"), 0u) << "HTTP/1.1 keep-alive is the default: no field";
    EXPECT_EQ(r->header("Server"), "opensocket-test");
    EXPECT_EQ(r->header("Content-Length"), "13");
    EXPECT_EQ(r->header("Content-Type"), "text/plain; charset=utf-8");
    // IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
    static const std::regex imf_fixdate(
        "(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] "
        "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
        "[0-2][0-9]:[0-5][0-9]:[0-6][0-9] GMT");
    std::string date = r->header("Date").value_or("");
    EXPECT_TRUE(std::regex_match(date, imf_fixdate)) << date;
    long skew = seconds_from_now(date);
    EXPECT_GE(skew, 0) << date;
    EXPECT_LE(skew, 2) << "Date is not the current time: " << date;
}

TEST(response, carries_date_server_content_length_and_type) {
    serve(response_routes(), test_config(), standard_fields);
}

task<> extra_fields(raw_client& c) {
    co_await c.send("GET /custom HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->reason, "Created");
    EXPECT_EQ(r->header("Content-Type"), "application/json");
    EXPECT_EQ(r->header("Content-Length"), "11");
    EXPECT_EQ(r->body, R"({"ok":true})");
    EXPECT_EQ(r->header("X-Request-Id"), "abc123");
    EXPECT_EQ(r->header("Cache-Control"), "no-store");
    // Repeated fields are all sent, in the handler's order.
    std::vector<std::string> cookies;
    for (const auto& [n, v] : r->headers)
        if (n == "Set-Cookie") cookies.push_back(v);
    EXPECT_EQ(cookies, (std::vector<std::string>{"a=1", "b=2"}));
    EXPECT_TRUE(r->header("Date"));
    EXPECT_TRUE(r->header("Server"));
}

TEST(response, carries_the_handlers_content_type_and_extra_fields) {
    serve(response_routes(), test_config(), extra_fields);
}

task<> no_type(raw_client& c) {
    co_await c.send("GET /untyped HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->status, 204);
    EXPECT_EQ(r->count("Content-Type"), 0u);
    EXPECT_TRUE(r->body.empty());
    EXPECT_TRUE(r->header("Date"));
    EXPECT_TRUE(r->header("Server"));
}

TEST(response, empty_content_type_sends_no_content_type_field) {
    serve(response_routes(), test_config(), no_type);
}

task<> large_body(raw_client& c) {
    co_await c.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    auto r = co_await c.next();
    auto h = co_await c.next();
    EXPECT_TRUE(r && h);
    if (!r || !h) co_return;
    EXPECT_EQ(r->header("Content-Length"), "100000");
    EXPECT_EQ(r->body.size(), 100'000u);
    if (r->body.size() != 100'000u) co_return;
    for (std::size_t i = 0; i < r->body.size(); ++i) {
        char want = i % 1000 == 0 ? static_cast<char>('a' + i % 26) : 'x';
        if (r->body[i] != want) {
            ADD_FAILURE() << "body byte " << i;
            break;
        }
    }
    EXPECT_EQ(h->body, "Hello, World!");
}

TEST(response, large_owned_body_is_sent_whole) {
    serve(response_routes(), test_config(), large_body);
}

task<> server_generated(raw_client& c) {
    // The router's 404 and an error response are formatted like any other.
    co_await c.send("GET /missing HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    auto nf = co_await c.next();
    auto bad = co_await c.next();
    EXPECT_TRUE(nf && bad);
    if (!nf || !bad) co_return;
    for (const auto* r : {&*nf, &*bad}) {
        EXPECT_TRUE(r->header("Date")) << r->raw;
        EXPECT_EQ(r->header("Server"), "opensocket-test") << r->raw;
        EXPECT_EQ(r->header("Content-Length"), std::to_string(r->body.size())) << r->raw;
    }
    EXPECT_EQ(nf->status, 404);
    EXPECT_EQ(bad->status, 400);  // HTTP/1.1 without Host
    EXPECT_TRUE(bad->closes());
}

TEST(response, server_generated_responses_carry_the_same_fields) {
    serve(response_routes(), test_config(), server_generated);
}

task<> length_digits(raw_client& c) {
    // Content-Length at every digit count the writer formats differently (one, two, more).
    for (std::size_t size : {0, 1, 9, 10, 42, 99, 100, 101, 999, 1000, 65'536}) {
        co_await c.send("GET /sized?" + std::to_string(size) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        auto r = co_await c.next();
        EXPECT_TRUE(r) << size;
        if (!r) co_return;
        EXPECT_EQ(r->header("Content-Length"), std::to_string(size));
        EXPECT_EQ(r->body, sized_body(size));
    }
}

TEST(response, content_length_is_exact_for_every_number_of_digits) {
    serve(response_routes(), test_config(), length_digits);
}

task<> version_line(raw_client& c) {
    co_await c.send("GET /hello HTTP/1.0\r\n\r\n");
    auto r = co_await c.next();
    EXPECT_TRUE(r);
    if (!r) co_return;
    EXPECT_EQ(r->version, "HTTP/1.1") << "a server sends its own version (RFC 9110 2.5)";
    EXPECT_EQ(r->status, 200);
}

TEST(response, status_line_is_http_1_1_for_an_http_1_0_client) {
    serve(response_routes(), test_config(), version_line);
}

}  // namespace
