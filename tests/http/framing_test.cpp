// Body framing of a request head (RFC 9112 section 6.3) and the errors, with their status codes,
// that keep two parsers from disagreeing on where a body ends (request smuggling).

#include <opensocket/http/parser.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

namespace http = opensocket::http;
using http::body_kind;
using http::parse_error;

// Parses a POST head carrying `fields`; returns its framing or the error.
opensocket::result<http::body_framing> framing(const std::string& fields,
                                               const std::string& version = "HTTP/1.1") {
    http::request_parser p;
    auto r = p.parse("POST / " + version + "\r\nHost: x\r\n" + fields + "\r\n");
    if (!r) return opensocket::fail(r.error());
    EXPECT_EQ(*r, http::parse_status::complete);
    return p.head().body;
}

void expect_error(const std::string& fields, parse_error e, int status,
                  const std::string& version = "HTTP/1.1") {
    auto f = framing(fields, version);
    ASSERT_FALSE(f) << fields;
    EXPECT_EQ(f.error(), e) << fields;
    EXPECT_EQ(http::status_code(f.error()), status) << fields;
}

TEST(Framing, NoFramingFieldMeansNoBody) {
    auto f = framing("");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, body_kind::none);
    EXPECT_EQ(f->length, 0u);
}

TEST(Framing, ContentLengthGivesTheLength) {
    auto f = framing("Content-Length: 42\r\n");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, body_kind::content_length);
    EXPECT_EQ(f->length, 42u);
}

TEST(Framing, ContentLengthWithLeadingZerosIsDecimal) {
    auto f = framing("Content-Length: 0010\r\n");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->length, 10u);
}

TEST(Framing, IdenticalDuplicateContentLengthsAreAccepted) {
    auto f = framing("Content-Length: 7\r\ncontent-length: 7, 7\r\n");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->length, 7u);
}

TEST(Framing, ContentLengthAtTheBodyLimitIsAcceptedAndAboveIs413) {
    auto at = framing("Content-Length: 1048576\r\n");
    ASSERT_TRUE(at);
    EXPECT_EQ(at->length, 1048576u);
    expect_error("Content-Length: 1048577\r\n", parse_error::body_too_large, 413);
}

TEST(Framing, ChunkedTransferEncoding) {
    auto f = framing("Transfer-Encoding: chunked\r\n");
    ASSERT_TRUE(f);
    EXPECT_EQ(f->kind, body_kind::chunked);
}

TEST(Framing, BothContentLengthAndTransferEncodingIs400) {
    expect_error("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                 parse_error::content_length_with_transfer_encoding, 400);
    expect_error("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                 parse_error::content_length_with_transfer_encoding, 400);
}

TEST(Framing, DifferingContentLengthsAre400) {
    expect_error("Content-Length: 5\r\nContent-Length: 6\r\n", parse_error::content_length_mismatch,
                 400);
    expect_error("Content-Length: 5, 6\r\n", parse_error::content_length_mismatch, 400);
    expect_error("Content-Length: 5,5,6\r\n", parse_error::content_length_mismatch, 400);
}

TEST(Framing, NonDigitOrOverflowingContentLengthIs400) {
    for (const char* v :
         {"x", "+1", "-1", "1.0", "1 1", "", ",", "5,", "0x1", "1e3", "99999999999999999999"}) {
        expect_error(std::string("Content-Length: ") + v + "\r\n",
                     parse_error::invalid_content_length, 400);
    }
}

TEST(Framing, FinalCodingOtherThanChunkedIs400) {
    expect_error("Transfer-Encoding: gzip\r\n", parse_error::invalid_transfer_encoding, 400);
    expect_error("Transfer-Encoding: chunked, gzip\r\n", parse_error::invalid_transfer_encoding,
                 400);
    expect_error("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                 parse_error::invalid_transfer_encoding, 400);
}

TEST(Framing, ChunkedTwiceIs400) {
    expect_error("Transfer-Encoding: chunked, chunked\r\n", parse_error::invalid_transfer_encoding,
                 400);
}

TEST(Framing, OtherCodingsBeforeChunkedAre501) {
    expect_error("Transfer-Encoding: gzip, chunked\r\n",
                 parse_error::transfer_coding_not_implemented, 501);
    expect_error("Transfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n",
                 parse_error::transfer_coding_not_implemented, 501);
}

TEST(Framing, TransferEncodingInHttp10Is400) {
    expect_error("Transfer-Encoding: chunked\r\n", parse_error::invalid_transfer_encoding, 400,
                 "HTTP/1.0");
}

TEST(Framing, FramingErrorsComeBeforeTheHostCheck) {
    http::request_parser p;
    auto r = p.parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), parse_error::content_length_with_transfer_encoding);
}

}  // namespace
