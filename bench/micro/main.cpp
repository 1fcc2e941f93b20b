// The micro benchmark driver: Google benchmark's main, plus the engine in use in the context
// block so that a result table says what it measured.

#include <opensocket/backends/engine_select.hpp>

#include <benchmark/benchmark.h>

#include <string>

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    auto io = opensocket::make_engine(opensocket::engine_kind::automatic);
    benchmark::AddCustomContext("opensocket_engine",
                                io ? std::string((*io)->name()) : std::string("unavailable"));
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
