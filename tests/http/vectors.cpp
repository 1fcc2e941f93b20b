#include "vectors.hpp"

namespace http_test {
namespace {

using opensocket::http::parse_error;
using namespace std::string_literals;

// A request line and header lines around `fields` (each ending in CRLF), then `rest`.
std::string req(const std::string& line, const std::string& fields, const std::string& rest = "") {
    return line + "\r\n" + fields + "\r\n" + rest;
}
std::string get(const std::string& fields) { return req("GET / HTTP/1.1", "Host: a\r\n" + fields); }
std::string post(const std::string& fields, const std::string& body) {
    return req("POST /p HTTP/1.1", "Host: a\r\n" + fields, body);
}
std::string chunked(const std::string& body) {
    return post("Transfer-Encoding: chunked\r\n", body);
}

void valid(std::vector<vector_case>& v) {
    auto ok = [&v](std::string name, std::string input, std::size_t requests = 1) {
        v.push_back({std::move(name), std::move(input), std::nullopt, requests});
    };
    ok("get_minimal", get(""));
    ok("get_browser",
       req("GET /index.html?q=1&r=%20 HTTP/1.1",
           "Host: localhost:8888\r\n"
           "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0\r\n"
           "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
           "Accept-Language: en-US,en;q=0.5\r\n"
           "Accept-Encoding: gzip, deflate, br\r\n"
           "Connection: keep-alive\r\n"
           "Upgrade-Insecure-Requests: 1\r\n"));
    ok("http10_without_host", "GET / HTTP/1.0\r\n\r\n");
    ok("http10_keep_alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    ok("http11_connection_close", get("Connection: close\r\n"));
    ok("connection_token_list", get("Connection: Upgrade, CLOSE\r\n"));
    ok("http12_read_as_11", req("GET / HTTP/1.2", "Host: a\r\n"));
    ok("leading_empty_lines", "\r\n\r\n" + get(""));
    ok("value_ows_trimmed", get("X-A:  \t v a l \t \r\nX-B:\r\nX-C: \t \r\n"));
    ok("value_htab_and_obs_text", get("X-A: a\tb\r\nX-B: caf\xc3\xa9\r\n"));
    ok("token_chars_in_name", get("!#$%&'*+-.^_`|~09AZaz: 1\r\n"));
    ok("absolute_form_target", req("GET http://a.example/x?y HTTP/1.1", "Host: a.example\r\n"));
    ok("options_asterisk", req("OPTIONS * HTTP/1.1", "Host: a\r\n"));
    ok("method_head", req("HEAD / HTTP/1.1", "Host: a\r\n"));
    ok("method_put", req("PUT /x HTTP/1.1", "Host: a\r\nContent-Length: 2\r\n", "ab"));
    ok("method_delete", req("DELETE /x HTTP/1.1", "Host: a\r\n"));
    ok("method_patch", req("PATCH /x HTTP/1.1", "Host: a\r\nContent-Length: 1\r\n", "z"));
    ok("expect_continue", post("Expect: 100-continue\r\nContent-Length: 3\r\n", "abc"));
    ok("expect_continue_http10_ignored",
       req("POST / HTTP/1.0", "Expect: 100-continue\r\nContent-Length: 1\r\n", "x"));
    ok("content_length_body", post("Content-Length: 5\r\n", "hello"));
    ok("content_length_zero", post("Content-Length: 0\r\n", ""));
    ok("content_length_duplicate_same", post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"));
    ok("content_length_list_same", post("Content-Length: 3, 3\r\n", "abc"));
    ok("chunked_body", chunked("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
    ok("chunked_extensions",
       chunked("5;a=b;c=\"q\\\"x y\" ; d\t;e = f\r\nhello\r\n0;last\r\n\r\n"));
    ok("chunked_trailers", chunked("3\r\nabc\r\n0\r\nX-Sum: 1\r\nY:\r\n\r\n"));
    ok("chunked_hex_sizes", chunked("a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n"));
    ok("chunked_leading_zeros", chunked("0005\r\nhello\r\n000\r\n\r\n"));
    ok("chunked_empty_body", chunked("0\r\n\r\n"));
    ok("transfer_encoding_case", post("Transfer-Encoding: Chunked\r\n", "0\r\n\r\n"));
    ok("transfer_encoding_empty_elements", post("Transfer-Encoding: , chunked,\r\n", "0\r\n\r\n"));
    ok("pipelined_gets", get("") + get("X: 2\r\n") + req("GET /3 HTTP/1.1", "Host: a\r\n"), 3);
    ok("pipelined_bodies",
       post("Content-Length: 2\r\n", "ab") + chunked("1\r\nc\r\n0\r\n\r\n") + get(""), 3);
    ok("pipelined_extra_crlf", post("Content-Length: 1\r\n", "x") + "\r\n" + get(""), 2);
    ok("incomplete_head", "GET / HTTP/1.1\r\nHost: a\r\n", 0);
    ok("incomplete_body", post("Content-Length: 10\r\n", "abc"), 0);
    ok("incomplete_chunked", chunked("5\r\nhel"), 0);
    ok("empty_input", "", 0);
}

void invalid(std::vector<vector_case>& v) {
    auto bad = [&v](std::string name, std::string input, parse_error e, std::size_t requests = 0) {
        v.push_back({std::move(name), std::move(input), e, requests});
    };
    // Request line (400, 501, 505).
    bad("leading_space", " GET / HTTP/1.1\r\n\r\n", parse_error::invalid_request_line);
    bad("double_space_after_method", "GET  / HTTP/1.1\r\n\r\n", parse_error::invalid_request_line);
    bad("double_space_after_target", "GET /  HTTP/1.1\r\n\r\n", parse_error::invalid_version);
    bad("trailing_space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", parse_error::invalid_version);
    bad("missing_version", "GET /\r\nHost: a\r\n\r\n", parse_error::invalid_request_line);
    bad("missing_target", "GET\r\n\r\n", parse_error::invalid_request_line);
    bad("tab_separator", "GET\t/ HTTP/1.1\r\n\r\n", parse_error::invalid_method);
    bad("lowercase_version", "GET / http/1.1\r\n\r\n", parse_error::invalid_version);
    bad("version_two_digits", "GET / HTTP/1.10\r\n\r\n", parse_error::invalid_version);
    bad("version_major_two_digits", "GET / HTTP/11.1\r\n\r\n", parse_error::invalid_version);
    bad("control_in_target", "GET /a\x01 HTTP/1.1\r\n\r\n", parse_error::invalid_target);
    bad("non_ascii_target", "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", parse_error::invalid_target);
    bad("asterisk_with_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", parse_error::invalid_target);
    bad("relative_target", "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", parse_error::invalid_target);
    bad("http2_version", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", parse_error::unsupported_version);
    bad("http09_version", "GET / HTTP/0.9\r\n\r\n", parse_error::unsupported_version);
    bad("h2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", parse_error::unsupported_version);
    bad("unknown_method", "FOO / HTTP/1.1\r\nHost: a\r\n\r\n", parse_error::method_not_implemented);
    bad("lowercase_method", "get / HTTP/1.1\r\nHost: a\r\n\r\n",
        parse_error::method_not_implemented);
    bad("connect_method", "CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n",
        parse_error::method_not_implemented);
    bad("trace_method", "TRACE / HTTP/1.1\r\nHost: a\r\n\r\n", parse_error::method_not_implemented);
    bad("method_with_invalid_char", "GE@T / HTTP/1.1\r\n\r\n", parse_error::invalid_method);
    // Line endings.
    bad("bare_lf_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n",
        parse_error::invalid_line_ending);
    bad("bare_lf_leading", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", parse_error::invalid_line_ending);
    bad("bare_cr_leading", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", parse_error::invalid_line_ending);
    bad("bare_cr_request_line", "GET / HTTP/1.1\rHost: a\r\n\r\n",
        parse_error::invalid_line_ending);
    bad("bare_lf_field", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
        parse_error::invalid_line_ending);
    bad("bare_cr_field", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n",
        parse_error::invalid_line_ending);
    bad("bare_lf_end_of_head", "GET / HTTP/1.1\r\nHost: a\r\n\n", parse_error::invalid_line_ending);
    bad("bare_cr_end_of_head", "GET / HTTP/1.1\r\nHost: a\r\n\rX",
        parse_error::invalid_line_ending);
    // Field lines.
    bad("obs_fold", get("X: a\r\n b\r\n"), parse_error::obs_fold);
    bad("obs_fold_tab", get("X: a\r\n\tb\r\n"), parse_error::obs_fold);
    bad("whitespace_before_first_field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
        parse_error::obs_fold);
    bad("nul_in_value", get("X: a\0b\r\n"s), parse_error::invalid_header_value);
    bad("ctl_in_value", get("X: a\x01b\r\n"), parse_error::invalid_header_value);
    bad("del_in_value", get("X: a\x7f\r\n"), parse_error::invalid_header_value);
    bad("nul_in_name", get("X\0Y: 1\r\n"s), parse_error::invalid_header_name);
    bad("invalid_name_char", get("X@Y: 1\r\n"), parse_error::invalid_header_name);
    bad("non_ascii_name", get("X\xc3\xa9: 1\r\n"), parse_error::invalid_header_name);
    bad("space_before_colon", get("X : 1\r\n"), parse_error::invalid_header_name);
    bad("tab_before_colon", get("X\t: 1\r\n"), parse_error::invalid_header_name);
    bad("empty_name", get(": 1\r\n"), parse_error::invalid_header_name);
    bad("missing_colon", get("NoColonHere\r\n"), parse_error::missing_colon);
    bad("missing_host", "GET / HTTP/1.1\r\n\r\n", parse_error::invalid_host);
    bad("duplicate_host", get("Host: b\r\n"), parse_error::invalid_host);
    // Framing (RFC 9112 section 6).
    bad("content_length_and_chunked",
        post("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"),
        parse_error::content_length_with_transfer_encoding);
    bad("chunked_and_content_length",
        post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "abc"),
        parse_error::content_length_with_transfer_encoding);
    bad("content_length_differs", post("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"),
        parse_error::content_length_mismatch);
    bad("content_length_list_differs", post("Content-Length: 5, 6\r\n", "hello!"),
        parse_error::content_length_mismatch);
    bad("content_length_letters", post("Content-Length: abc\r\n", ""),
        parse_error::invalid_content_length);
    bad("content_length_plus", post("Content-Length: +5\r\n", "hello"),
        parse_error::invalid_content_length);
    bad("content_length_negative", post("Content-Length: -1\r\n", ""),
        parse_error::invalid_content_length);
    bad("content_length_hex", post("Content-Length: 0x5\r\n", "hello"),
        parse_error::invalid_content_length);
    bad("content_length_inner_space", post("Content-Length: 1 2\r\n", ""),
        parse_error::invalid_content_length);
    bad("content_length_empty", post("Content-Length:\r\n", ""),
        parse_error::invalid_content_length);
    bad("content_length_empty_member", post("Content-Length: 5,\r\n", "hello"),
        parse_error::invalid_content_length);
    bad("content_length_overflow", post("Content-Length: 18446744073709551616\r\n", ""),
        parse_error::invalid_content_length);
    bad("content_length_over_limit", post("Content-Length: 1048577\r\n", ""),
        parse_error::body_too_large);
    bad("transfer_encoding_chunked_not_last", post("Transfer-Encoding: chunked, gzip\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_gzip_only", post("Transfer-Encoding: gzip\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_chunked_twice", post("Transfer-Encoding: chunked, chunked\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_two_fields",
        post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_empty", post("Transfer-Encoding:\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_chunked_parameter", post("Transfer-Encoding: chunked;x=1\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_bad_token", post("Transfer-Encoding: \"chunked\"\r\n", ""),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_http10",
        req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n"),
        parse_error::invalid_transfer_encoding);
    bad("transfer_encoding_gzip_chunked", post("Transfer-Encoding: gzip, chunked\r\n", ""),
        parse_error::transfer_coding_not_implemented);
    // Chunked bodies.
    bad("chunk_size_missing", chunked("\r\nhello\r\n0\r\n\r\n"), parse_error::invalid_chunk_size);
    bad("chunk_size_not_hex", chunked("5g\r\nhello\r\n0\r\n\r\n"), parse_error::invalid_chunk_size);
    bad("chunk_size_negative", chunked("-5\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_size);
    bad("chunk_size_prefix", chunked("0x5\r\nhello\r\n0\r\n\r\n"), parse_error::invalid_chunk_size);
    bad("chunk_size_overflow", chunked("10000000000000000\r\n"), parse_error::chunk_size_overflow);
    bad("chunk_size_overflow_all_f", chunked("fffffffffffffffff\r\n"),
        parse_error::chunk_size_overflow);
    bad("chunk_size_too_many_zeros", chunked(std::string(33, '0') + "1\r\nx\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_size);
    bad("chunk_size_over_limit", chunked("100001\r\n"), parse_error::body_too_large);
    bad("chunk_size_space_before_crlf", chunked("5 \r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("chunk_size_bare_lf", chunked("5\nhello\r\n0\r\n\r\n"), parse_error::invalid_line_ending);
    bad("chunk_size_bare_cr", chunked("5\rhello\r\n0\r\n\r\n"), parse_error::invalid_line_ending);
    bad("chunk_data_too_long", chunked("5\r\nhello!\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_data);
    bad("chunk_data_bare_lf", chunked("5\r\nhello\n0\r\n\r\n"), parse_error::invalid_chunk_data);
    bad("chunk_data_cr_without_lf", chunked("5\r\nhello\rX0\r\n\r\n"),
        parse_error::invalid_line_ending);
    bad("chunk_extension_no_name", chunked("5;=x\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("chunk_extension_space_in_name", chunked("5;a b\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("chunk_extension_no_value", chunked("5;a=\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("chunk_extension_unterminated_quote", chunked("5;a=\"x\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("chunk_extension_ctl", chunked("5;a=\x01\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("chunk_extension_text_after_quote", chunked("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"),
        parse_error::invalid_chunk_extension);
    bad("trailer_obs_fold", chunked("0\r\nX: 1\r\n 2\r\n\r\n"), parse_error::obs_fold);
    bad("trailer_missing_colon", chunked("0\r\nX\r\n\r\n"), parse_error::missing_colon);
    bad("trailer_nul", chunked("0\r\nX: \0\r\n\r\n"s), parse_error::invalid_header_value);
    bad("trailer_bad_name", chunked("0\r\nX Y: 1\r\n\r\n"), parse_error::invalid_header_name);
    bad("trailer_bare_lf", chunked("0\r\nX: 1\n\r\n"), parse_error::invalid_line_ending);
    bad("body_final_bare_lf", chunked("0\r\n\n"), parse_error::invalid_line_ending);
    // A request after an error is never parsed; those before it are.
    bad("request_after_bad_chunk", chunked("zz\r\n") + get(""), parse_error::invalid_chunk_size);
    bad("error_after_good_request",
        get("") + post("Content-Length: 1\r\nContent-Length: 2\r\n", "ab") + get(""),
        parse_error::content_length_mismatch, 1);
    bad("smuggled_request_in_body",
        post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
             "0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n"),
        parse_error::content_length_with_transfer_encoding);
}

// Limit vectors run with small_limits(): line 64, head 256, 4 fields, body 64, extensions 32.
void limits(std::vector<vector_case>& v) {
    auto lim = [&v](std::string name, std::string input, std::optional<parse_error> e,
                    std::size_t requests) {
        v.push_back({std::move(name), std::move(input), e, requests, true});
    };
    const std::string line64 = "GET /" + std::string(50, 'a') + " HTTP/1.1";  // 64 bytes
    lim("request_line_at_limit", line64 + "\r\nHost: a\r\n\r\n", std::nullopt, 1);
    lim("request_line_over_limit", "GET /" + std::string(51, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n",
        parse_error::request_line_too_long, 0);
    lim("target_over_limit_unfinished", "GET /" + std::string(100, 'a'),
        parse_error::request_line_too_long, 0);
    lim("method_over_limit_unfinished", std::string(70, 'G'), parse_error::request_line_too_long,
        0);
    // A head of exactly `size` bytes: 16 (request line) + 9 (Host) + 5 + n (X) + 2 (end).
    auto head_of = [](std::size_t size) {
        return "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(size - 32, 'v') + "\r\n\r\n";
    };
    lim("head_at_limit", head_of(256), std::nullopt, 1);
    lim("head_over_limit", head_of(257), parse_error::header_too_large, 0);
    lim("head_over_limit_unfinished", head_of(400).substr(0, 300), parse_error::header_too_large,
        0);
    std::string empty_lines;
    for (int i = 0; i < 150; ++i) empty_lines += "\r\n";
    lim("empty_lines_over_limit", empty_lines, parse_error::header_too_large, 0);
    lim("fields_at_limit", get("A: 1\r\nB: 2\r\nC: 3\r\n"), std::nullopt, 1);
    lim("fields_over_limit", get("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), parse_error::too_many_headers,
        0);
    lim("body_at_limit", post("Content-Length: 64\r\n", std::string(64, 'b')), std::nullopt, 1);
    lim("body_over_limit", post("Content-Length: 65\r\n", std::string(65, 'b')),
        parse_error::body_too_large, 0);
    lim("chunked_at_limit",
        chunked("20\r\n" + std::string(32, 'b') + "\r\n20\r\n" + std::string(32, 'c') +
                "\r\n0\r\n\r\n"),
        std::nullopt, 1);
    lim("chunked_over_limit", chunked("20\r\n" + std::string(32, 'b') + "\r\n21\r\n"),
        parse_error::body_too_large, 0);
    lim("chunk_extensions_at_limit", chunked("1;" + std::string(31, 'e') + "\r\nx\r\n0\r\n\r\n"),
        std::nullopt, 1);
    lim("chunk_extensions_over_limit", chunked("1;" + std::string(32, 'e') + "\r\nx\r\n0\r\n\r\n"),
        parse_error::chunk_extension_too_long, 0);
    lim("trailers_over_count", chunked("0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n"),
        parse_error::trailer_too_large, 0);
    lim("trailers_over_bytes", chunked("0\r\nA: " + std::string(300, 't') + "\r\n\r\n"),
        parse_error::trailer_too_large, 0);
}

std::vector<vector_case> make_vectors() {
    std::vector<vector_case> v;
    valid(v);
    invalid(v);
    limits(v);
    return v;
}

}  // namespace

const std::vector<vector_case>& vectors() {
    static const std::vector<vector_case> all = make_vectors();
    return all;
}

}  // namespace http_test
