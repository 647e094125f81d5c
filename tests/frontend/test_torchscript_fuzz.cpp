// Fuzzing the TorchScript frontend with mutated .pt files: real fixtures
// damaged at the archive level (bit flips, truncation, deleted ranges) and
// inside their members with valid CRCs (TorchScript source code, the module
// pickle, constants, tensor bytes, version; members dropped, duplicated or
// renamed), then imported in-process through the std-only importer. Every
// input must end as a module or as located errors (the file, or the model's
// source range and module path); no crash, no
// escaping exception, each import within a time bound. Deterministic:
// STC_FUZZ_ITERATIONS / STC_FUZZ_SEED change a run; a failing input is
// written to the build directory.
#include "../core/text_mutator.h"
#include "fixture_data.h"
#include "torchscript_importer.h"
#include "zip_members.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <map>

using namespace stc;

namespace {

std::string readBytes(const std::string& path)
{
    QFile f(QString::fromStdString(path));
    return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}

std::string category(const std::string& member)
{
    if (member.find("/code/") != std::string::npos)
        return member.size() > 10 && member.compare(member.size() - 10, 10, ".debug_pkl") == 0 ? "debug" : "code";
    if (member.find("/data/") != std::string::npos || member.find("/constants/") != std::string::npos)
        return "tensor";
    if (member.find(".pkl") != std::string::npos)
        return "pickle";
    return "other";
}

} // namespace

class TestTorchScriptFuzz : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void mutatedArchivesNeverCrash()
    {
        const int64_t iterations = fuzztest::envInt("STC_FUZZ_ITERATIONS", 300);
        const uint64_t seed = uint64_t(fuzztest::envInt("STC_FUZZ_SEED", 1));
        // Small positive fixtures (an import takes tens of milliseconds), both export kinds.
        const std::vector<std::string> names = {"lif_soft_reset", "leaky_mlp", "if_node", "stateful_lif",
                                                "lif_threshold_ties", "shape_ops"};
        struct Seed {
            std::string path, bytes;
            fuzztest::ZipMembers members;
            std::vector<int64_t> inputShape;
        };
        std::vector<Seed> seeds;
        std::map<std::string, std::vector<std::string>> corpus; // member category -> contents
        for (const std::string& name : names)
            for (const char* kind : {"traced", "scripted"}) {
                const std::string base = std::string(STC_TEST_FIXTURE_DIR) + "/torchscript/" + name + "." + kind;
                test::RefFile ref;
                std::string error;
                if (!QFile::exists(QString::fromStdString(base + ".pt")) || !test::loadRefFile(base + ".ref.json", ref, error))
                    continue;
                Seed s{base + ".pt", readBytes(base + ".pt"), {}, ref.inputShape};
                s.members = fuzztest::readZipMembers(s.bytes);
                QVERIFY2(!s.members.empty(), s.path.c_str());
                for (const auto& [member, content] : s.members)
                    corpus[category(member)].push_back(content);
                seeds.push_back(std::move(s));
            }
        QVERIFY(seeds.size() >= 8);
        const std::vector<std::string> words = {"def", "return", "self", "torch", "aten", "prim", "Tensor", "int",
                                                "float", "List", "Optional", "None", "(", ")", ":", ",", "=", "+",
                                                "-", "*", "[", "]", "0", "-1", "1e38", "nan", "\n", "    ",
                                                "\x80\x02", "X\x05\x00\x00\x00", "q\x00", "K\xff", "c", "R", "."};
        std::map<std::string, std::unique_ptr<fuzztest::TextMutator>> mutators;
        uint64_t k = 0;
        for (const auto& [cat, texts] : corpus)
            mutators[cat] = std::make_unique<fuzztest::TextMutator>(texts, words, seed * 1000 + ++k);
        irtest::Rng rng(seed);

        auto importer = torchscript::makeTorchScriptImporter();
        QTemporaryDir tmp;
        const std::string path = QDir(tmp.path()).filePath("fuzz.pt").toStdString();
        std::map<std::string, int64_t> outcomes;
        double slowest = 0;
        QElapsedTimer total;
        total.start();
        int64_t caughtCrashes = 0;
        for (int64_t i = 0; i < iterations; ++i) {
            const Seed& s = seeds[size_t(rng.range(0, int64_t(seeds.size()) - 1))];
            std::string bytes;
            std::string how;
            const double r = rng.uniform();
            if (r < 0.3) { // archive bytes
                bytes = s.bytes;
                how = "archive";
                const int64_t n = rng.range(1, 6);
                for (int64_t m = 0; m < n && !bytes.empty(); ++m) {
                    const size_t p = size_t(rng.range(0, int64_t(bytes.size()) - 1));
                    switch (rng.range(0, 3)) {
                    case 0: bytes[p] = char(bytes[p] ^ (1 << rng.range(0, 7))); break;
                    case 1: bytes[p] = char(rng.next()); break;
                    case 2: bytes.erase(p, size_t(rng.range(1, 256))); break;
                    default: bytes.resize(p); break;
                    }
                }
            } else {
                fuzztest::ZipMembers members = s.members;
                const size_t victim = size_t(rng.range(0, int64_t(members.size()) - 1));
                // Every member is fair game, also constants/N and *.debug_pkl, on which LibTorch 1.13
                // itself crashes: the importer loads each archive in a child process first.
                const double m = rng.uniform();
                if (m < 0.8) {
                    const std::string cat = category(members[victim].first);
                    members[victim].second = mutators[cat]->next(); // (a corpus member of the same kind, mutated)
                    how = "member " + cat;
                } else if (m < 0.9) {
                    members.erase(members.begin() + long(victim));
                    how = "member dropped";
                } else if (m < 0.95) {
                    members.push_back(members[victim]);
                    how = "member duplicated";
                } else {
                    members[victim].first += "x";
                    how = "member renamed";
                }
                bytes = fuzztest::writeStoredZip(members);
            }
            {
                QFile f(QString::fromStdString(path));
                QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
                f.write(bytes.data(), qint64(bytes.size()));
            }
            frontend::ImportOptions options;
            options.inputShape = s.inputShape;
            QElapsedTimer t;
            t.start();
            frontend::ImportResult result;
            try {
                result = importer->importFile(path, options);
            } catch (const std::exception& e) {
                const QString keep = QDir(STC_BINARY_DIR).filePath(QString("torchscript_fuzz_failure_%1.pt").arg(i));
                QFile::copy(QString::fromStdString(path), keep);
                QFAIL(qPrintable(QString("input %1 (%2 of %3): exception escaped: %4; kept as %5")
                                     .arg(i).arg(QString::fromStdString(how), QString::fromStdString(s.path),
                                              e.what(), keep)));
            }
            slowest = std::max(slowest, t.elapsed() / 1000.0);
            const bool ok = result.module.has_value();
            bool located = ok;
            // An error at the file, or at the model's own source range / module path (a damaged
            // tensor can make a neuron unrecognisable: that error points into the model's code).
            for (const auto& d : result.diagnostics.items())
                if (d.severity == Severity::Error && (!d.loc.file.empty() || !d.op.empty()))
                    located = true;
            if (!located) {
                const QString keep = QDir(STC_BINARY_DIR).filePath(QString("torchscript_fuzz_failure_%1.pt").arg(i));
                QFile::copy(QString::fromStdString(path), keep);
                QFAIL(qPrintable(QString("input %1 (%2 of %3): failed without a located error: [%4] kept as %5")
                                     .arg(i).arg(QString::fromStdString(how), QString::fromStdString(s.path),
                                              QString::fromStdString(result.diagnostics.format()), keep)));
            }
            ++outcomes[how + (ok ? " -> imported" : " -> error")];
            for (const auto& d : result.diagnostics.items())
                if (d.message.find("LibTorch crashed reading it") != std::string::npos)
                    ++caughtCrashes; // in the importer's child process, not here
        }
        for (const auto& [what, n] : outcomes)
            qInfo("  %-32s %6lld", what.c_str(), (long long)n);
        qInfo("%lld mutated .pt files (seed %llu) in %.1f s, slowest import %.2f s; no crash, every failure located; "
              "LibTorch crashed on %lld of them in the importer's isolated child process",
              (long long)iterations, (unsigned long long)seed, total.elapsed() / 1000.0, slowest,
              (long long)caughtCrashes);
        QVERIFY2(slowest < 60, "an import took more than a minute");
    }
};

QTEST_GUILESS_MAIN(TestTorchScriptFuzz)
#include "test_torchscript_fuzz.moc"
