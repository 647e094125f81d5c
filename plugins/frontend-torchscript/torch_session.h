// Std-only facade over a loaded TorchScript module. The two translation units
// behind it (torch_session.cpp, graph_recorder.cpp) are the only ones in the
// project that include LibTorch.
#pragma once

#include "frontend/importer.h"
#include "recorded_graph.h"
#include "util/diagnostics.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace stc::torchscript {

// One recorded execution; replays its nodes on other data.
class Recording : public Replayer {
public:
    RecordedGraph graph;
};

struct ForwardResult {
    std::vector<std::vector<int64_t>> shapes; // one per returned tensor (tuples flattened)
    std::vector<std::vector<float>> data;
};

struct ModuleInfo {
    std::string path;      // "" = root
    std::string className; // mangling removed
    int64_t parameters = 0; // own parameters and buffers (not children)
};

class TorchSession {
public:
    // Loads a TorchScript archive; on failure returns nullptr with a located
    // diagnostic (truncated archive, plain pickle, no forward method, ...).
    // probeFirst: load the archive in a child process first, so that LibTorch
    // crashing on a damaged file becomes an error (off when the caller
    // isolates crashes itself).
    static std::unique_ptr<TorchSession> open(const std::string& path, Diagnostics& diags, bool probeFirst = true);
    virtual ~TorchSession() = default;

    virtual std::string path() const = 0;
    virtual bool scripted() const = 0; // forward contains control flow (prim::Loop/If) or was scripted
    virtual std::vector<ModuleInfo> modules() const = 0;
    // Input shapes worth trying when the user gave none, best first.
    virtual std::vector<std::vector<int64_t>> candidateInputShapes() const = 0;
    // Sets an int attribute that looks like the number of time steps (T,
    // timesteps, num_steps, ...) on the root module. Returns its name, or ""
    // when there is none (traced models bake T into the graph).
    virtual std::string setTimesteps(int64_t T) = 0;

    // Puts state that forward keeps across calls (attributes listed in
    // RecordedGraph::stateWrites) back to a fresh state: the module's own
    // exported reset() if it has one, else zeros (or the owner's float
    // v_reset). Returns how, for a note ("" if nothing was done).
    virtual std::string resetState(const std::vector<std::string>& stateAttributes) = 0;

    // LibTorch's own forward on a fresh copy of the module state.
    virtual bool forward(const std::vector<int64_t>& shape, const std::vector<float>& input, ForwardResult& out,
                         Diagnostics& diags) = 0;
    // `runs` timed forward calls (after one warm-up) on one fresh copy of the
    // module, no gradients, `threads` intra-op threads (< 1: LibTorch's default).
    virtual frontend::TimedForward timeForward(const std::vector<int64_t>& shape, const std::vector<float>& input,
                                               int runs, int threads) = 0;
    // Executes forward node by node on a fresh copy of the module state and
    // records every op that depends on the input. nullptr on failure.
    virtual std::unique_ptr<Recording> record(const std::vector<int64_t>& shape, const std::vector<float>& input,
                                              const std::atomic<bool>* cancel, Diagnostics& diags) = 0;
};

} // namespace stc::torchscript
