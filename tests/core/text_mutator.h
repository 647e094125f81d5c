// Deterministic text mutator for the fuzz tests: byte flips, random bytes,
// deletions, splices from other corpus files, token swaps, dictionary tokens,
// line duplication/removal, truncation, digit changes, and an optional
// format-specific mutation (e.g. swapping IR op names).
#pragma once

#include "ir_text_test_util.h"

#include <QByteArray>
#include <QtGlobal>

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace stc::fuzztest {

using irtest::Rng;

// STC_FUZZ_ITERATIONS / STC_FUZZ_SEED style overrides.
inline int64_t envInt(const char* name, int64_t def)
{
    const QByteArray v = qgetenv(name);
    return v.isEmpty() ? def : v.toLongLong();
}

class TextMutator {
public:
    // ``special`` (optional) damages the text at a position in a way only the
    // format knows; it runs for 1 in 12 mutations.
    using Special = std::function<void(std::string&, size_t, Rng&)>;

    TextMutator(const std::vector<std::string>& corpus, const std::vector<std::string>& dictionary, uint64_t seed,
                Special special = {})
        : corpus_(corpus), dictionary_(dictionary), rng_(seed), special_(std::move(special))
    {
    }

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
            const std::string& word = dictionary_[size_t(rng_.range(0, int64_t(dictionary_.size()) - 1))];
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
        case 10:
            if (special_)
                special_(s, p, rng_);
            break;
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
    const std::vector<std::string>& dictionary_;
    Rng rng_;
    Special special_;
};

} // namespace stc::fuzztest

