// Deterministic mutation fuzzing of the two other text inputs users write by
// hand: pass pipelines (passes/pipeline.h) and chip descriptors (JSON,
// target/chip_descriptor.h). Asserts: no crash, no hang, every rejection has a
// located error (pipeline: line 1 + column; descriptor: the file name), and an
// accepted pipeline prints and parses back to itself.
// STC_FUZZ_ITERATIONS / STC_FUZZ_SEED change the run.
#include "passes/pipeline.h"
#include "passes/runner.h"
#include "target/chip_descriptor.h"
#include "target/target_passes.h"
#include "text_mutator.h"

#include <QDir>
#include <QElapsedTimer>
#include <QtTest>

#include <ctime>
#include <exception>
#include <fstream>
#include <memory>

using namespace stc;

namespace {

using fuzztest::envInt;

#if defined(__SANITIZE_ADDRESS__)
constexpr int64_t kScale = 10; // ~15x slower under ASan
#else
constexpr int64_t kScale = 1;
#endif

struct Counts {
    int64_t rejected = 0, accepted = 0;
};

// Runs `one` on `iterations` mutated inputs; fails with the saved input on the
// first problem (or an input taking > 2 s of CPU).
template <class One>
void fuzz(const char* what, const std::vector<std::string>& corpus, const std::vector<std::string>& dictionary,
          int64_t iterations, One one)
{
    const uint64_t seed = uint64_t(envInt("STC_FUZZ_SEED", 20261126));
    fuzztest::TextMutator mutator(corpus, dictionary, seed);
    Counts counts;
    QElapsedTimer wall;
    wall.start();
    const std::clock_t cpuStart = std::clock();
    for (int64_t i = 0; i < iterations; ++i) {
        const std::string input = mutator.next();
        const std::clock_t start = std::clock();
        std::string problem;
        try {
            problem = one(input, counts);
        } catch (const std::exception& e) {
            problem = std::string("exception escaped: ") + e.what();
        }
        const double ms = 1000.0 * double(std::clock() - start) / CLOCKS_PER_SEC;
        if (problem.empty() && ms > 2000)
            problem = "took " + std::to_string(ms) + " ms of CPU (hang?)";
        if (!problem.empty()) {
            const std::string path = std::string(STC_BINARY_DIR "/") + what + "_fuzz_failure.txt";
            std::ofstream(path, std::ios::binary) << input;
            QFAIL(qPrintable(QString("%1 input %2 (seed %3): %4\ninput saved to %5")
                                 .arg(what)
                                 .arg(i)
                                 .arg(seed)
                                 .arg(QString::fromStdString(problem))
                                 .arg(QString::fromStdString(path))));
        }
    }
    qInfo("%s: %lld inputs in %.1f s wall, %.1f s CPU; rejected %lld, accepted %lld", what, (long long)iterations,
          wall.elapsed() / 1000.0, double(std::clock() - cpuStart) / CLOCKS_PER_SEC, (long long)counts.rejected,
          (long long)counts.accepted);
    QVERIFY2(counts.rejected > 0 && counts.accepted > 0, "the mutations never (or always) produced valid input");
}

std::string readFile(const QString& path)
{
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

class TestConfigFuzz : public QObject {
    Q_OBJECT

private slots:
    void pipelines()
    {
        passes::PassRegistry registry = passes::makeBuiltinRegistry();
        target::registerTargetPasses(registry, std::make_shared<target::TargetSession>());
        const std::vector<std::string> corpus = {
            "fold-bn,canonicalize,dce",
            "fold-bn,fuse,quantize{bits=8 per-channel=true},-prune{sparsity=0.5}",
            "fold-bn,canonicalize,dce,quantize{bits=4},schedule-time,layout-buffers",
            "fold-bn,canonicalize,dce,lower-attention,quantize{bits=8},partition{chip=loihi3 chips=2 "
            "objective=balanced},place,route",
            "prune{sparsity=0.25 mode=channel},fold-bn,quantize{bits=6}",
            "-fold-bn,-dce",
        };
        const std::vector<std::string> dictionary = {
            ",", "{", "}", "=", " ", "-", "--", "bits", "bits=", "=8", "sparsity=1.5", "sparsity=-0", "chips=0",
            "chips=99999999999999999999", "objective=", "true", "false", "nan", "1e400", "quantize", "partition",
            "route", "place", "fold-bn", "x{", "{}", "{{", "}}", ",,", "\"", "\xff", std::string(1, '\0'), "\n",
        };
        fuzz("pipeline", corpus, dictionary, envInt("STC_FUZZ_ITERATIONS", 500000 / kScale),
             [&](const std::string& input, Counts& counts) -> std::string {
                 Diagnostics d;
                 const std::optional<passes::Pipeline> p = passes::parsePipeline(input, registry, d);
                 if (!p) {
                     ++counts.rejected;
                     if (!d.hasErrors())
                         return "rejected without an error";
                     for (const auto& item : d.items())
                         if (item.severity == Severity::Error && (item.loc.line != 1 || item.loc.col < 1))
                             return "error without a line-1 column: " + d.format();
                     return {};
                 }
                 ++counts.accepted;
                 const std::string printed = p->print(registry);
                 Diagnostics again;
                 const auto reparsed = passes::parsePipeline(printed, registry, again);
                 if (!reparsed)
                     return "printed pipeline does not parse: " + printed + "\n" + again.format();
                 if (!(*reparsed == *p))
                     return "parse(print(p)) != p for " + printed;
                 return {};
             });
    }

    void chipDescriptors()
    {
        std::vector<std::string> corpus;
        const QDir chips(STC_RESOURCE_DIR "/chips");
        for (const QString& f : chips.entryList({"*.json"}, QDir::Files))
            corpus.push_back(readFile(chips.filePath(f)));
        QVERIFY(corpus.size() >= 3);
        const std::vector<std::string> dictionary = {
            "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "0", "-1", "1e308", "-1e308", "1e999",
            "0.5", "9223372036854775807", "18446744073709551616", "\"value\"", "\"projected\"", "\"source\"",
            "{\"value\": -3}", "{\"value\": \"x\"}", "[]", "{}", "\"\\u0000\"", "\"\\ud800\"", "\xff", "/*", "NaN",
        };
        fuzz("descriptor", corpus, dictionary, envInt("STC_FUZZ_ITERATIONS", 100000 / kScale),
             [](const std::string& input, Counts& counts) -> std::string {
                 const target::DescriptorLoad load = target::parseChipDescriptor(input, "fuzz.json");
                 if (!load.chip) {
                     ++counts.rejected;
                     if (!load.diagnostics.hasErrors())
                         return "rejected without an error";
                     for (const auto& item : load.diagnostics.items())
                         if (item.severity == Severity::Error && item.loc.file != "fuzz.json")
                             return "error that does not name the file: " + load.diagnostics.format();
                     return {};
                 }
                 ++counts.accepted;
                 if (load.chip->coresPerChip() <= 0 || load.chip->maxChips() <= 0)
                     return "accepted a descriptor without cores";
                 return {};
             });
    }
};

QTEST_GUILESS_MAIN(TestConfigFuzz)
#include "test_config_fuzz.moc"
