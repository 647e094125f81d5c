// Deterministic mutation fuzzing of the Spike IR text parser and verifier.
// Mutates the test files (byte flips, insertions, deletions, splices, token
// swaps, dictionary tokens, line edits, truncation) and runs each input through
// parse + verify, then print + re-parse for whatever parsed. Asserts only: no
// crash, no hang, every error located, and printed text parses back to the
// same text. STC_FUZZ_ITERATIONS / STC_FUZZ_SEED change the run; on a failure
// the input is written to <build>/ir_fuzz_failure.sir.
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "ir_text_test_util.h"
#include "text_mutator.h"

#include <QElapsedTimer>
#include <QtTest>

#include <ctime>
#include <fstream>

using namespace stc;
using namespace stc::ir;
using namespace stc::irtest;

namespace {

const std::vector<std::string> kDictionary = {
    "%x", "%0", "%logits", "@m", "module", "output", "const", "input", "conv2d", "lif", "matmul", "reshape",
    "T", "T,", "f32", "spike", "graded", "i8", "[", "]", "{", "}", "(", ")", ",", ":", "=", "\"", "b64\"", "f[",
    "loc(\"", "//", "\n", "-", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
    "2147483648", "4611686018427387904", "1e308", "1e-400", "4e38", "nan", "-inf", "inf", "0", "-1", "\\",
    "\\x", "\\xZ", "<elided 4 bytes>", "\xff", std::string(1, '\0'), "timesteps", "_a", "%", "@\"", "1.", ".5",
    "A===", "====", "{}", "[]", "f[]", "[[[[", "true", "%x = input : f32[3]\n", "output %x\n",
    "{stride = [1, 1]}", "{tau = 2}", "{shape = [-1, 2147483647, 2147483647]}", "\xEF\xBB\xBF", "\r\n", "\t",
};

// Replaces the next op name by another one (semantic damage).
void swapOpName(std::string& s, size_t p, Rng& rng)
{
    const size_t eq = s.find(" = ", p);
    if (eq == std::string::npos)
        return;
    const size_t b = eq + 3, e = s.find(' ', b);
    const auto& defs = allOpDefs();
    s.replace(b, e == std::string::npos ? 0 : e - b, std::string(defs[size_t(rng.range(0, int64_t(defs.size()) - 1))].name));
}

bool allErrorsLocated(const Diagnostics& d)
{
    for (const auto& item : d.items())
        if (item.severity == Severity::Error && (item.loc.line < 1 || item.loc.col < 1 || item.loc.file != "fuzz.sir"))
            return false;
    return d.hasErrors();
}

struct Stats {
    int64_t parseErrors = 0, verifyErrors = 0, valid = 0;
};

// Empty if the input behaves; otherwise what went wrong.
std::string runOne(const std::string& input, Stats& stats)
{
    ParseResult r = parseModule(input, "fuzz.sir");
    if (!r.ok()) {
        ++stats.parseErrors;
        return allErrorsLocated(r.diagnostics) && r.diagnostics.errorCount() == 1
                   ? std::string()
                   : "parse failed without exactly one located error:\n" + r.diagnostics.format();
    }
    const Diagnostics v = verify(*r.module, r.moduleLoc);
    if (v.hasErrors()) {
        ++stats.verifyErrors;
        if (!allErrorsLocated(v))
            return "verifier error without a location:\n" + v.format();
    } else {
        ++stats.valid;
    }
    // Whatever parsed prints and parses back to the same text, verified or not.
    const std::string printed = printModule(*r.module);
    ParseResult again = parseModule(printed, "fuzz.sir");
    if (!again.ok())
        return "printed module does not parse:\n" + again.diagnostics.format() + printed.substr(0, 4000);
    if (printModule(*again.module) != printed)
        return "print(parse(print(m))) != print(m)";
    if (verify(*again.module).hasErrors() != v.hasErrors())
        return "verification result changed after a round trip";
    return {};
}

using fuzztest::envInt;

} // namespace

class TestIrFuzz : public QObject {
    Q_OBJECT

private slots:
    void mutatedFiles()
    {
        std::vector<std::string> corpus;
        for (bool bad : {false, true})
            for (const QString& f : irFiles(bad))
                corpus.push_back(readIrFile(f));
        for (uint64_t seed = 1; seed <= 4; ++seed)
            corpus.push_back(printModule(randomModule(seed)));
        QVERIFY(corpus.size() > 10);

#if defined(__SANITIZE_ADDRESS__)
        const int64_t defaultIterations = 40000; // ~15x slower; keeps ctest well inside its timeout
#else
        const int64_t defaultIterations = 400000;
#endif
        const int64_t iterations = envInt("STC_FUZZ_ITERATIONS", defaultIterations);
        const uint64_t seed = uint64_t(envInt("STC_FUZZ_SEED", 20240601));
        fuzztest::TextMutator mutator(corpus, kDictionary, seed, swapOpName);
        Stats stats;
        QElapsedTimer wall;
        wall.start();
        const std::clock_t cpuStart = std::clock();
        double slowest = 0; // CPU ms: wall time means little on a loaded build machine
        for (int64_t i = 0; i < iterations; ++i) {
            const std::string input = mutator.next();
            const std::clock_t start = std::clock();
            std::string problem = runOne(input, stats);
            const double ms = 1000.0 * double(std::clock() - start) / CLOCKS_PER_SEC;
            slowest = std::max(slowest, ms);
            if (problem.empty() && ms > 2000)
                problem = "took " + std::to_string(ms) + " ms of CPU (hang?)";
            if (!problem.empty()) {
                const std::string path = STC_BINARY_DIR "/ir_fuzz_failure.sir";
                std::ofstream(path, std::ios::binary) << input;
                QFAIL(qPrintable(QString("input %1 (seed %2): %3\ninput saved to %4")
                                     .arg(i)
                                     .arg(seed)
                                     .arg(QString::fromStdString(problem))
                                     .arg(QString::fromStdString(path))));
            }
        }
        const double cpuSeconds = double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
        qInfo("%lld inputs in %.1f s wall, %.1f s CPU (%.0f inputs/s CPU); slowest %.0f ms; parse errors %lld, "
              "verify errors %lld, valid %lld",
              (long long)iterations, wall.elapsed() / 1000.0, cpuSeconds, iterations / std::max(cpuSeconds, 1e-9),
              slowest, (long long)stats.parseErrors, (long long)stats.verifyErrors,
              (long long)stats.valid);
        QVERIFY(stats.parseErrors > 0 && stats.verifyErrors > 0 && stats.valid > 0);
    }
};

QTEST_GUILESS_MAIN(TestIrFuzz)
#include "test_ir_fuzz.moc"
