// body_decoder: one path for every framing (none, Content-Length, chunked).

#include <opensocket/http/body.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace http = opensocket::http;

TEST(BodyDecoder, NoBodyIsDoneAtOnceAndConsumesNothing) {
    http::body_decoder d;
    d.start({});
    EXPECT_TRUE(d.done());
    auto step = d.next("GET / HTTP/1.1\r\n");
    ASSERT_TRUE(step);
    EXPECT_EQ(step->consumed, 0u);
    EXPECT_TRUE(step->done);
}

TEST(BodyDecoder, ContentLengthTakesOnlyItsBytes) {
    http::body_decoder d;
    d.start({http::body_kind::content_length, 5});
    const std::string input = "helloGET";
    auto step = d.next(input);
    ASSERT_TRUE(step);
    EXPECT_EQ(step->data, "hello");
    EXPECT_EQ(step->data.data(), input.data());
    EXPECT_EQ(step->consumed, 5u);
    EXPECT_TRUE(step->done);
    EXPECT_EQ(d.remaining(), 0u);
}

TEST(BodyDecoder, ContentLengthAcrossCalls) {
    http::body_decoder d;
    d.start({http::body_kind::content_length, 6});
    auto a = d.next("abc");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->done);
    EXPECT_EQ(d.remaining(), 3u);
    auto b = d.next("defg");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->data, "def");
    EXPECT_TRUE(b->done);
    EXPECT_TRUE(d.done());
}

TEST(BodyDecoder, ZeroContentLengthIsDoneAtOnce) {
    http::body_decoder d;
    d.start({http::body_kind::content_length, 0});
    EXPECT_TRUE(d.done());
    auto step = d.next("x");
    ASSERT_TRUE(step);
    EXPECT_TRUE(step->done);
    EXPECT_EQ(step->consumed, 0u);
}

TEST(BodyDecoder, ChunkedIsDecoded) {
    http::body_decoder d;
    d.start({http::body_kind::chunked, 0});
    EXPECT_FALSE(d.done());
    auto step = d.next("2\r\nhi\r\n0\r\n\r\n");
    ASSERT_TRUE(step);
    EXPECT_EQ(step->data, "hi");
    EXPECT_FALSE(d.done());
}

TEST(BodyDecoder, StartBeginsAFreshChunkedBody) {
    http::body_decoder d;
    d.start({http::body_kind::chunked, 0});
    ASSERT_FALSE(d.next("x"));
    d.start({http::body_kind::chunked, 0});
    auto step = d.next("0\r\n\r\n");
    ASSERT_TRUE(step);
    EXPECT_TRUE(step->done);
}

TEST(BodyDecoder, ChunkedBodyLimitComesFromTheLimits) {
    http::parser_limits limits;
    limits.max_body_size = 1;
    http::body_decoder d(limits);
    d.start({http::body_kind::chunked, 0});
    auto step = d.next("2\r\n");
    ASSERT_FALSE(step);
    EXPECT_EQ(http::status_code(step.error()), 413);
}

}  // namespace
