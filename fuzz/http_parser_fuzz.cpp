// libFuzzer entry for the HTTP parser layer. Input: one byte choosing a split position, then
// the bytes a client sends. Each input is driven through the head parser and body decoders
// (tests/http/driver.cpp) whole and split in two (and byte by byte when short), with the default
// and with small limits, and through the chunked decoder alone. Invariants, besides no crash or
// sanitizer report: head views lie inside the head, consumed counts never exceed the input, and
// every split gives the same result as the whole input.

#include "driver.hpp"

#include <opensocket/http/chunked.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace http = opensocket::http;

[[noreturn]] void broken(const char* what, const std::string& a, const std::string& b) {
    std::fprintf(stderr, "invariant broken: %s\n--- whole:\n%s--- split:\n%s", what, a.c_str(),
                 b.c_str());
    std::abort();
}

void check_driver(std::string_view input, std::size_t cut, const http::parser_limits& limits) {
    const http_test::outcome whole = http_test::drive_whole(input, limits);
    const std::size_t cuts[] = {cut};
    const http_test::outcome split = http_test::drive(input, cuts, limits);
    for (const auto* o : {&whole, &split}) {
        if (!o->violations.empty()) broken(o->violations.front().c_str(), "", "");
    }
    if (whole.transcript() != split.transcript()) {
        broken("split differs from whole", whole.transcript(), split.transcript());
    }
    if (input.size() <= 256) {
        const http_test::outcome bytes = http_test::drive_bytewise(input, limits);
        if (bytes.transcript() != whole.transcript()) {
            broken("byte by byte differs from whole", whole.transcript(), bytes.transcript());
        }
    }
}

// Decodes `input` as a chunked body fed in two pieces; returns data, error and consumed bytes.
std::string decode_chunked(std::string_view input, std::size_t cut) {
    http::chunked_decoder decoder;
    std::string data;
    std::size_t consumed = 0;
    for (std::string_view piece : {input.substr(0, cut), input.substr(cut)}) {
        while (!piece.empty()) {
            auto step = decoder.next(piece);
            if (!step) return data + "|error " + step.error().message();
            if (step->consumed > piece.size()) broken("consumed > input", "", "");
            data += step->data;
            consumed += step->consumed;
            piece.remove_prefix(step->consumed);
            if (step->done) return data + "|done " + std::to_string(consumed);
            if (step->consumed == 0) broken("no progress on non-empty input", "", "");
        }
    }
    return data + "|partial " + std::to_string(consumed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    const std::size_t cut = input.size() * data[0] / 255;
    check_driver(input, cut, {});
    check_driver(input, cut, http_test::small_limits());
    const std::string whole = decode_chunked(input, input.size());
    const std::string split = decode_chunked(input, cut);
    if (whole != split) broken("chunked split differs from whole", whole, split);
    return 0;
}
