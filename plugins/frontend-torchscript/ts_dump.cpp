// stc-ts-dump model.pt [B,C,H,W] [--graph]: prints what the TorchScript
// frontend sees (recording, neurons) and the imported Spike IR.
#include "lowering.h"
#include "neuron_recognizer.h"
#include "torch_session.h"
#include "torchscript_importer.h"

#include "ir/printer.h"

#include <chrono>
#include <ctime>
#include <cstring>
#include <iostream>
#include <sstream>

using namespace stc;
using namespace stc::torchscript;

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::cerr << "usage: stc-ts-dump model.pt [1,1,28,28] [--graph]\n";
        return 2;
    }
    frontend::ImportOptions options;
    bool graph = false;
    for (int i = 2; i < argc; ++i) {
        if (std::strcmp(argv[i], "--graph") == 0) {
            graph = true;
            continue;
        }
        std::stringstream ss(argv[i]);
        for (std::string tok; std::getline(ss, tok, ',');)
            options.inputShape.push_back(std::stoll(tok));
    }
    if (graph) {
        Diagnostics diags;
        auto session = TorchSession::open(argv[1], diags);
        if (session && !options.inputShape.empty()) {
            int64_t n = 1;
            for (auto d : options.inputShape)
                n *= d;
            std::vector<float> input(static_cast<size_t>(n), 0.5f);
            if (auto rec = session->record(options.inputShape, input, nullptr, diags)) {
                std::cout << rec->graph.dump();
                auto neurons = recognizeNeurons(rec->graph, *rec, diags);
                auto lowered = lowerRecording(rec->graph, neurons, 0, diags);
                if (lowered.module) {
                    ir::PrintOptions po;
                    po.elideConstants = true;
                    std::cout << ir::printModule(*lowered.module, po);
                }
                for (const auto& nr : neurons.neurons) {
                    std::cout << "neuron " << nr.path << " T=" << nr.T << " ok=" << nr.ok << " "
                              << nr.params.describe() << " nodes=" << nr.nodes.size() << " inputs:";
                    for (auto v : nr.stepInput)
                        std::cout << " %" << v;
                    std::cout << "\n";
                }
            }
        }
        std::cerr << diags.format();
    }
    auto importer = makeTorchScriptImporter();
    auto last = std::chrono::steady_clock::now();
    std::clock_t lastCpu = std::clock();
    std::string phase = "start";
    options.progress = [&](double, const std::string& what) {
        const auto now = std::chrono::steady_clock::now();
        const std::clock_t cpu = std::clock();
        std::cerr << "  [" << phase << "] " << std::chrono::duration<double>(now - last).count() << " s wall, "
                  << double(cpu - lastCpu) / CLOCKS_PER_SEC << " s cpu\n";
        last = now;
        lastCpu = cpu;
        phase = what;
    };
    auto result = importer->importFile(argv[1], options);
    std::cerr << result.diagnostics.format();
    if (result.module) {
        ir::PrintOptions po;
        po.elideConstants = true;
        std::cout << ir::printModule(*result.module, po);
    }
    std::cerr << "import took " << result.seconds << " s\n";
    return result.module ? 0 : 1;
}
