/* The HTTP side shared by the hand-written C HTTP peers (c_epoll_http, c_uring_http): request
 * parsing, the per-second response cache and the per-thread output buffer. Each peer supplies its
 * own event loop and sets `peer_server_name`. Header-only, like c_common.h. */
#ifndef OPENSOCKET_BENCH_C_HTTP_H
#define OPENSOCKET_BENCH_C_HTTP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum { in_capacity = 8192 };

/* The Server header's value. */
static const char* peer_server_name;

/* Responses are built in a per-thread buffer and written straight away; only what the socket
 * does not take is copied into the connection (conn.pending). Its size bounds a batch: a full
 * input buffer of the shortest possible requests. */
struct out_buffer {
    char* data;
    size_t len, cap;
};

static __thread struct out_buffer out_tls;

static void out_append(const char* s, size_t n) {
    struct out_buffer* o = &out_tls;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 65536;
        while (cap < o->len + n) cap *= 2;
        char* d = realloc(o->data, cap);
        if (!d) abort();
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
}

/* The Date header changes once a second, and so do the two "Hello, World!" responses
 * (keep-alive and close): they are formatted once a second per thread, then copied whole. */
struct response_cache {
    time_t second;
    char date[40];
    char hello[2][256];
    size_t hello_len[2];
};

static __thread struct response_cache cache = {.second = -1};

enum connection_header { header_none, header_close, header_keep_alive };

static size_t format_response(char* out, size_t cap, const char* status_line, const char* body,
                              enum connection_header conn) {
    static const char* const conn_lines[] = {"", "Connection: close\r\n",
                                             "Connection: keep-alive\r\n"};
    int n =
        snprintf(out, cap,
                 "%s\r\nServer: %s\r\nDate: %s\r\nContent-Type: text/plain; "
                 "charset=utf-8\r\nContent-Length: %zu\r\n%s\r\n%s",
                 status_line, peer_server_name, cache.date, strlen(body), conn_lines[conn], body);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

/* Called once per batch of requests (a read), not per response. */
static void refresh_cache(void) {
    time_t now = time(NULL);
    if (now == cache.second) return;
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(cache.date, sizeof cache.date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    for (int close = 0; close < 2; close++)
        cache.hello_len[close] =
            format_response(cache.hello[close], sizeof cache.hello[close], "HTTP/1.1 200 OK",
                            "Hello, World!", close ? header_close : header_none);
    cache.second = now;
}

static void out_hello(int close) { out_append(cache.hello[close], cache.hello_len[close]); }

/* Any other response: rare, so formatted on the spot. */
static void out_response(const char* status_line, const char* body, enum connection_header conn) {
    char text[512];
    out_append(text, format_response(text, sizeof text, status_line, body, conn));
}

/* Whether [p, p+n) equals the lower-case literal `word`, ignoring case. */
#define TOKEN_IS(p, n, word) ((n) == sizeof(word) - 1 && strncasecmp(p, word, n) == 0)

/* Whether the comma-separated header value [p, p+n) lists `word` (case-insensitive). */
#define LIST_HAS(p, n, word) list_has(p, n, word, sizeof(word) - 1)
static int list_has(const char* p, size_t n, const char* word, size_t word_len) {
    const char* end = p + n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) p++;
        const char* t = p;
        while (p < end && *p != ',') p++;
        const char* e = p;
        while (e > t && (e[-1] == ' ' || e[-1] == '\t')) e--;
        if ((size_t)(e - t) == word_len && strncasecmp(t, word, word_len) == 0) return 1;
    }
    return 0;
}

/* The first "\r\n\r\n" in [p, end): memchr hops from line end to line end, where glibc's
 * memmem would set up a general search for every request. */
static const char* find_head_end(const char* p, const char* end) {
    while (end - p >= 4) {
        const char* r = memchr(p, '\r', (size_t)(end - p - 3));
        if (!r) return NULL;
        if (r[1] == '\n' && r[2] == '\r' && r[3] == '\n') return r;
        p = r + 1;
    }
    return NULL;
}

enum parse_result { parse_incomplete, parse_done, parse_closed };

/* Answers the request at in[from..in_len) if it is complete, appending the response to out_tls.
 * `used` gets its size, head and body; parse_closed means the response asked to close and
 * nothing after it may be answered. in_capacity bounds a request (head and body). */
static enum parse_result handle_request(const char* in, size_t in_len, size_t from, size_t* used) {
    const char* start = in + from;
    size_t avail = in_len - from;
    const char* head_end = find_head_end(start, start + avail);
    if (!head_end) {
        if (from == 0 && avail == in_capacity) {
            out_response("HTTP/1.1 431 Request Header Fields Too Large", "", header_close);
            return parse_closed;
        }
        return parse_incomplete;
    }
    size_t head_len = (size_t)(head_end - start) + 4;

    /* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    const char* line_end = memchr(start, '\r', head_len);
    const char* sp1 = memchr(start, ' ', (size_t)(line_end - start));
    const char* sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == start || sp2 == sp1 + 1 || line_end - sp2 - 1 != 8 ||
        memcmp(sp2 + 1, "HTTP/1.", 7) != 0 || (sp2[8] != '0' && sp2[8] != '1')) {
        out_response("HTTP/1.1 400 Bad Request", "", header_close);
        return parse_closed;
    }
    int http10 = sp2[8] == '0';
    int close = http10;
    size_t body_len = 0;

    /* Header lines: only Connection, Content-Length and Transfer-Encoding matter here. */
    for (const char* p = line_end + 2; p < head_end + 2;) {
        const char* eol = memchr(p, '\r', (size_t)(head_end + 2 - p)); /* found: head_end */
        const char* colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon || colon == p) {
            out_response("HTTP/1.1 400 Bad Request", "", header_close);
            return parse_closed;
        }
        const char* v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t')) v++;
        size_t name_len = (size_t)(colon - p), value_len = (size_t)(eol - v);
        if (TOKEN_IS(p, name_len, "connection")) {
            if (LIST_HAS(v, value_len, "close")) close = 1;
            if (http10 && LIST_HAS(v, value_len, "keep-alive")) close = 0;
        } else if (TOKEN_IS(p, name_len, "content-length")) {
            char* end = NULL;
            unsigned long long n = strtoull(v, &end, 10);
            if (end == v || n > in_capacity) {
                out_response("HTTP/1.1 413 Content Too Large", "", header_close);
                return parse_closed;
            }
            body_len = (size_t)n;
        } else if (TOKEN_IS(p, name_len, "transfer-encoding")) {
            out_response("HTTP/1.1 501 Not Implemented", "", header_close);
            return parse_closed;
        }
        p = eol + 2;
    }
    if (head_len + body_len > avail) {
        if (from == 0 && head_len + body_len > in_capacity) {
            out_response("HTTP/1.1 413 Content Too Large", "", header_close);
            return parse_closed;
        }
        return parse_incomplete;
    }
    *used = head_len + body_len;

    if (sp1 - start == 3 && memcmp(start, "GET", 3) == 0 && sp2 - sp1 - 1 == 10 &&
        memcmp(sp1 + 1, "/plaintext", 10) == 0) {
        if (http10 && !close)
            out_response("HTTP/1.1 200 OK", "Hello, World!", header_keep_alive); /* HTTP/1.0 asks */
        else
            out_hello(close);
    } else {
        out_response("HTTP/1.1 404 Not Found", "Not Found",
                     close    ? header_close
                     : http10 ? header_keep_alive
                              : header_none);
    }
    return close ? parse_closed : parse_done;
}

#endif
