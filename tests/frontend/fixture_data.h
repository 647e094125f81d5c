// Reference files written by tools/models (NAME.{traced,scripted}.ref.json):
// inputs, LibTorch logits and per-neuron spike counts for each case.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stc::test {

struct RefCase {
    std::string name;
    std::vector<float> input;
    std::vector<float> logits;
    std::map<std::string, int64_t> spikeTotals; // neuron module path -> total spikes
};

struct RefFile {
    std::string model;
    std::string modelPath; // the .pt next to the .ref.json
    std::string exportKind; // "trace" or "script"
    int64_t timesteps = 0;
    std::vector<int64_t> inputShape;
    bool stateful = false;
    std::vector<RefCase> cases;
};

// Parses a .ref.json; returns false and sets `error` on failure.
bool loadRefFile(const std::string& path, RefFile& out, std::string& error);

// Every *.ref.json under `dir` (sorted) whose .pt exists.
std::vector<std::string> refFilesIn(const std::string& dir);

// |got - want| <= 1e-5 + 1e-4 * |want| for every element; `where` describes
// the first element that is not.
bool allClose(const std::vector<float>& got, const std::vector<float>& want, std::string* where, double* maxErr);

} // namespace stc::test
