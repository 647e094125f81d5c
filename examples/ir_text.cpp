// Spike IR text: parse, print, verify, run, and what errors look like.
// docs/api-guide.md, "Spike IR: parse, print, verify".
//   example_ir_text MODEL.sir
#include "interp/interpreter.h"
#include "ir/ir_io.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

#include <cstdio>
#include <filesystem>
#include <string>

using namespace stc;

// A two-neuron spiking layer: 3 inputs, linear, LIF, firing rate over T = 4 steps.
constexpr const char* kTiny = R"(module @tiny {timesteps = 4} {
  %x = input : f32[3]
  %w = const [0.5, -1.0, 2.0, 1.0, 0.25, 0.0] : f32[2,3]
  %0 = encode %x {mode = "direct"} : f32[T,3]
  %1 = linear %0, %w : f32[T,2]
  %spikes = lif %1 {decay_input = true, reset = "hard", tau = 2.0, v_reset = 0.0, v_threshold = 1.0} : spike[T,2]
  %rate = mean %spikes {over_time = true} : f32[2]
  output %rate
}
)";

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: example_ir_text MODEL.sir\n");
        return 2;
    }

    // 1. Parse text. The file name only labels diagnostics and Op::textLoc.
    ir::ParseResult parsed = ir::parseModule(kTiny, "tiny.sir");
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s", parsed.diagnostics.format().c_str());
        return 1;
    }
    const ir::Module& m = *parsed.module;
    // 2. Verify: every problem, located at the op (moduleLoc locates module-level ones).
    const Diagnostics problems = ir::verify(m, parsed.moduleLoc);
    std::printf("parsed @%s: %zu ops, T = %lld, %lld parameters, %lld neurons per step, %zu problem(s)\n",
                m.name.c_str(), m.ops().size(), (long long)m.timesteps, (long long)ir::parameterCount(m),
                (long long)ir::neuronCount(m), problems.items().size());
    // 3. Print: the canonical text; parsing it again gives the same module.
    const std::string text = ir::printModule(m);
    const bool roundTrip = ir::parseModule(text).module->sameAs(m);
    std::printf("canonical text (round trip %s):\n%s", roundTrip ? "exact" : "DIFFERS", text.c_str());

    // 4. Run it in the f32 reference interpreter: one sample (batch 1).
    interp::RunResult run = interp::run(m, {interp::InputBatch{1, {1.5f, 0.5f, 0.5f}}});
    if (!run.ok()) {
        std::fprintf(stderr, "interpreter: %s\n", run.error.c_str());
        return 1;
    }
    std::printf("firing rates for x = [1.5, 0.5, 0.5]: %.2f %.2f (%lld spikes)\n", run.outputs[0][0],
                run.outputs[0][1], (long long)run.lif[0].total);

    // 5. Errors are located: a syntax error stops the parser at the first one...
    const ir::ParseResult bad = ir::parseModule("module @m {timesteps = 4} {\n  %x = input f32[3]\n}\n", "bad.sir");
    std::printf("syntax error:\n  %s", bad.diagnostics.format().c_str());
    // ...while text that parses but is wrong gets every problem from the verifier.
    std::string wrong = kTiny;
    wrong.replace(wrong.find(": f32[T,2]"), 10, ": f32[T,5]"); // wrong result type
    wrong.replace(wrong.find("tau = 2.0"), 9, "tau = \"slow\""); // wrong attribute kind
    const ir::ParseResult unverified = ir::parseModule(wrong, "wrong.sir");
    const Diagnostics errors = ir::verify(*unverified.module, unverified.moduleLoc);
    std::printf("verifier errors:\n");
    for (const Diagnostic& d : errors.items())
        std::printf("  %s\n", d.format().c_str());

    // 6. Files: loadModule = read + parse + verify (LoadResult::ok() checks both).
    const ir::LoadResult file = ir::loadModule(argv[1]);
    if (!file.ok()) {
        std::fprintf(stderr, "%s", file.diagnostics.format().c_str());
        return 1;
    }
    const ir::Module& model = *file.module;
    std::printf("%s: %zu ops, T = %lld, %lld parameters, source %s\n",
                std::filesystem::path(argv[1]).filename().c_str(), model.ops().size(), (long long)model.timesteps,
                (long long)ir::parameterCount(model), model.attrs.getString("source").c_str());
    // Listings for people: large constants elided (the parser refuses such text).
    ir::PrintOptions listing;
    listing.elideConstants = true;
    std::printf("  %s\n", ir::printOp(model, model.ops()[4], listing).c_str());
    return roundTrip && problems.empty() ? 0 : 1;
}
