// Two knobs of the energy-accuracy exploration (issue: sweeps over T and
// threshold scaling), as passes so a configuration is one pipeline text:
//   set-timesteps{t=N}       runs the model for N time steps instead of its own T
//   scale-thresholds{factor} multiplies every spiking neuron's threshold
// Both change what the model computes (fewer steps or sparser spikes save
// energy and cost accuracy); the sweep measures by how much. They run on the
// float model, before quantize calibrates at the final T and thresholds.
#include "passes/builtin_passes.h"

#include <cmath>

namespace stc::passes {

namespace {

bool refuseQuantized(const ir::Module& m, PassRun& run)
{
    if (!m.attrs.getBool(prop::kQuantized))
        return false;
    run.error(run.info().name + " must run before quantize (its calibration and fixed-point thresholds are for "
              "the model as it was)");
    return true;
}

void runSetTimesteps(ir::Module& m, PassRun& run)
{
    if (refuseQuantized(m, run))
        return;
    const int64_t t = run.options().getInt("t");
    // A model input that already has a time axis (event data) fixes T.
    for (const auto& op : m.ops())
        if (op.kind == ir::OpKind::Input && m.typeOf(op.result).perStep()) {
            run.error("the input %" + m.value(op.result).name + " already has a time axis; its T cannot be changed",
                      m.value(op.result).name, op.origin);
            return;
        }
    run.stats().set("timesteps-before", m.timesteps);
    run.stats().set("timesteps", t);
    if (m.timesteps == t)
        return;
    if (m.attrs.has("schedule.latency")) {
        run.error("set-timesteps must run before schedule-time (its schedule is for T=" +
                  std::to_string(m.timesteps) + ")");
        return;
    }
    m.timesteps = t;
}

void runScaleThresholds(ir::Module& m, PassRun& run)
{
    if (refuseQuantized(m, run))
        return;
    const double factor = run.options().getFloat("factor");
    int64_t scaled = 0, skipped = 0;
    for (auto& op : m.mutableOps()) {
        if (op.kind != ir::OpKind::Lif)
            continue;
        // Membrane-output neurons never fire: their threshold is not a knob.
        if (op.attrs.getString("output", "spikes") == "membrane") {
            ++skipped;
            continue;
        }
        const double vth = op.attrs.getFloat("v_threshold") * factor;
        if (!std::isfinite(vth)) {
            run.error("threshold x " + std::to_string(factor) + " is not finite", m.value(op.result).name, op.origin);
            return;
        }
        op.attrs.set("v_threshold", vth);
        ++scaled;
    }
    run.stats().set("neurons-scaled", scaled);
    run.stats().set("membrane-outputs-left", skipped);
    if (scaled == 0)
        run.warning("no spiking neuron found: nothing to scale");
}

} // namespace

PassDef makeSetTimestepsPass()
{
    PassInfo info;
    info.name = "set-timesteps";
    info.handlesDelay = true;
    info.description = "run the model for t time steps (fewer steps: less energy and latency, usually less accuracy)";
    info.options = {OptionSpec::integer("t", 4, 1, 4096, "time steps per inference")};
    return {std::move(info), runSetTimesteps};
}

PassDef makeScaleThresholdsPass()
{
    PassInfo info;
    info.name = "scale-thresholds";
    info.handlesDelay = true;
    info.description = "multiply every spiking neuron's threshold (higher: sparser spikes, less energy)";
    info.options = {OptionSpec::real("factor", 1.0, 0.01, 100.0, "threshold multiplier")};
    return {std::move(info), runScaleThresholds};
}

} // namespace stc::passes
