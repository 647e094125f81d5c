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

class Mutator {
public:
    Mutator(const std::vector<std::string>& corpus, uint64_t seed) : corpus_(corpus), rng_(seed) {}

    std::string next()
    {
        std::string s = corpus_[size_t(rng_.range(0, int64_t(corpus_.size()) - 1))];
        // Mostly one mutation, so that a fair share of inputs still parses and
        // reaches the verifier and the printer.
        const double r = rng_.uniform();
        for (int n = r < 0.6 ? 1 : r < 0.85 ? 2 : 4; n > 0; --n)
            mutate(s);
        return s;
    }

private:
    // Most positions land near a line start, where op names, result names and
    // attributes are; uniform positions mostly hit base64 payloads.
    size_t position(const std::string& s)
    {
        if (s.empty())
            return 0;
        if (rng_.chance(0.25))
            return size_t(rng_.range(0, int64_t(s.size())));
        size_t p = size_t(rng_.range(0, int64_t(s.size()) - 1));
        const size_t lineStart = s.rfind('\n', p);
        p = lineStart == std::string::npos ? 0 : lineStart + 1;
        return std::min(s.size(), p + size_t(rng_.range(0, 100)));
    }

    // Bounds of the whitespace-separated token around position p.
    std::pair<size_t, size_t> tokenAt(const std::string& s, size_t p)
    {
        auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t'; };
        size_t b = std::min(p, s.size()), e = b;
        while (b > 0 && !space(s[b - 1]))
            --b;
        while (e < s.size() && !space(s[e]))
            ++e;
        return {b, e};
    }

    void mutate(std::string& s)
    {
        const size_t p = position(s);
        switch (rng_.range(0, 11)) {
        case 0: // flip one bit
            if (p < s.size())
                s[p] = char(s[p] ^ (1 << rng_.range(0, 7)));
            break;
        case 1: // random bytes
            for (int64_t n = rng_.range(1, 4); n > 0; --n)
                s.insert(s.begin() + long(std::min(p, s.size())), char(rng_.next()));
            break;
        case 2: // delete a range
            s.erase(std::min(p, s.size()), size_t(rng_.range(1, 16)));
            break;
        case 3: { // splice a chunk of another file in, replacing or inserting
            const std::string& other = corpus_[size_t(rng_.range(0, int64_t(corpus_.size()) - 1))];
            const size_t from = other.empty() ? 0 : size_t(rng_.range(0, int64_t(other.size()) - 1));
            const std::string chunk = other.substr(from, size_t(rng_.range(1, 200)));
            s.replace(std::min(p, s.size()), rng_.chance(0.5) ? chunk.size() : 0, chunk);
            break;
        }
        case 4: { // swap two tokens
            auto [b1, e1] = tokenAt(s, p);
            auto [b2, e2] = tokenAt(s, position(s));
            if (b1 > b2)
                std::swap(b1, b2), std::swap(e1, e2);
            if (e1 <= b2) {
                const std::string t1 = s.substr(b1, e1 - b1), t2 = s.substr(b2, e2 - b2);
                s.replace(b2, e2 - b2, t1);
                s.replace(b1, e1 - b1, t2);
            }
            break;
        }
        case 5: // replace a token by a dictionary entry
        case 6: { // or insert one
            const std::string& word = kDictionary[size_t(rng_.range(0, int64_t(kDictionary.size()) - 1))];
            auto [b, e] = tokenAt(s, p);
            s.replace(b, rng_.chance(0.5) ? e - b : 0, word);
            break;
        }
        case 7: { // duplicate or drop a line
            const size_t b = s.rfind('\n', p == 0 ? 0 : p - 1);
            const size_t start = b == std::string::npos ? 0 : b + 1;
            const size_t end = std::min(s.size(), s.find('\n', start) == std::string::npos ? s.size()
                                                                                           : s.find('\n', start) + 1);
            const std::string line = s.substr(start, end - start);
            if (rng_.chance(0.5))
                s.insert(start, line);
            else
                s.erase(start, end - start);
            break;
        }
        case 8: // truncate
            s.resize(std::min(p, s.size()));
            break;
        case 10: { // replace the next op name by another one (semantic damage)
            const size_t eq = s.find(" = ", p);
            if (eq == std::string::npos)
                break;
            const size_t b = eq + 3, e = s.find(' ', b);
            const auto& defs = allOpDefs();
            s.replace(b, e == std::string::npos ? 0 : e - b,
                      std::string(defs[size_t(rng_.range(0, int64_t(defs.size()) - 1))].name));
            break;
        }
        case 9:
        case 11: // change a digit
            for (size_t i = p; i < s.size() && i < p + 40; ++i)
                if (s[i] >= '0' && s[i] <= '9') {
                    s[i] = char('0' + rng_.range(0, 9));
                    break;
                }
            break;
        }
    }

    const std::vector<std::string>& corpus_;
    Rng rng_;
};

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

int64_t envInt(const char* name, int64_t def)
{
    const QByteArray v = qgetenv(name);
    return v.isEmpty() ? def : v.toLongLong();
}

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
        const int64_t defaultIterations = 20000; // ~15x slower; keeps ctest well inside its timeout
#else
        const int64_t defaultIterations = 100000;
#endif
        const int64_t iterations = envInt("STC_FUZZ_ITERATIONS", defaultIterations);
        const uint64_t seed = uint64_t(envInt("STC_FUZZ_SEED", 20240601));
        Mutator mutator(corpus, seed);
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
