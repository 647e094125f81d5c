// The BrainChip Akida backend plugin (AKD1000, Akida 1.0 IP): per-layer
// constraint check against the published Akida 1.0 hardware constraints and a
// deployment description per NP (80 NPs in 20 nodes of 4). The generic,
// descriptor-driven check (core.layer_ops, weight widths, neuron models) runs
// first; the rules here replace its message for an op with a precise one.
// Layout and sources: docs/backends.md.
#include "deployment_writer.h"
#include "plugin_interfaces.h"

#include <QJsonArray>
#include <QObject>

#include <algorithm>

namespace {

using namespace stc::target;
using stc::ir::OpKind;

// Akida 1.0 Hardware constraints (akida_examples 2.4.0 documentation).
constexpr int64_t kInputKernels[] = {3, 5, 7};
constexpr int64_t kInputStrides[] = {1, 2, 3};
constexpr int64_t kConvKernels[] = {1, 3, 5, 7};
constexpr int64_t kSepKernels[] = {3, 5, 7};
constexpr int64_t kConvStrides[] = {1, 2};

template <size_t N>
bool in(const int64_t (&set)[N], int64_t v)
{
    return std::find(std::begin(set), std::end(set), v) != std::end(set);
}

std::string dims(int64_t a, int64_t b) { return std::to_string(a) + "x" + std::to_string(b); }

// Is the value (through views and neurons) the output of a max pooling, before
// any weight layer? Akida: "FullyConnected layers cannot be placed after a
// layer with max pooling enabled".
bool afterMaxPool(const stc::ir::Module& m, stc::ir::ValueId v)
{
    for (int guard = 0; guard < 64 && v != stc::ir::kNoValue; ++guard) {
        const auto& d = m.definingOp(v);
        if (d.kind == OpKind::MaxPool2d)
            return true;
        const bool passThrough = d.kind == OpKind::Reshape || d.kind == OpKind::Flatten || d.kind == OpKind::Lif ||
                                 d.kind == OpKind::BatchNorm || d.kind == OpKind::Scale;
        if (!passThrough || d.operands.empty())
            return false;
        v = d.operands[0];
    }
    return false;
}

std::vector<LayerIssue> akidaRules(const stc::ir::Module& m, const ChipDescriptor& chip)
{
    std::vector<LayerIssue> out;
    const auto& ops = m.ops();
    for (int32_t i = 0; i < int32_t(ops.size()); ++i) {
        const auto& op = ops[size_t(i)];
        auto add = [&](const std::string& why) { out.push_back(makeLayerIssue(m, i, chip, why)); };
        switch (op.kind) {
        case OpKind::Lif: {
            const std::string model = lifModelName(op);
            if (model != "if")
                add("neuron \"" + model + "\" has a membrane leak; Akida neurons integrate events without leak "
                    "(retrain with IF neurons: lif {neuron = \"if\"})");
            break;
        }
        case OpKind::MatMul:
            if (!isWeightLayer(m, op))
                add(std::string(isSpikeValue(m, op.operands[0]) && isSpikeValue(m, op.operands[1]) ? "spike x spike"
                                                                                                     : "tensor x tensor") +
                    " matmul (attention): Akida layers multiply events by stored weights only");
            break;
        case OpKind::Mul: add("elementwise product of two tensors: no Akida 1.0 layer computes it"); break;
        case OpKind::Add: add("residual addition: Akida 1.0 layer types (InputConv2D, Conv2D, SeparableConv2D, "
                              "FullyConnected) have no skip connections"); break;
        case OpKind::Conv1d: add("1-D convolution: Akida 1.0 convolves 2-D maps only (express it as conv2d with a 1 x k kernel)"); break;
        case OpKind::Permute: add("axis permutation: Akida layers cannot transpose feature maps"); break;
        case OpKind::Sum: add("sum over axes: not an Akida 1.0 layer (only global average pooling reduces positions)"); break;
        case OpKind::Delay: add("delay (recurrence or a delayed value): Akida 1.0 layers are feed-forward"); break;
        case OpKind::Conv2d: {
            const auto& x = m.typeOf(op.operands[0]).shape;
            const auto& w = m.typeOf(op.operands[1]).shape; // [O, C/g, KH, KW]
            if (x.size() < 3 || w.size() != 4)
                break;
            const int64_t c = x[x.size() - 3], h = x[x.size() - 2], wd = x[x.size() - 1];
            const int64_t kh = w[2], kw = w[3];
            const auto stride = op.attrs.getInts("stride", {1, 1});
            const int64_t groups = op.attrs.getInt("groups", 1);
            const bool input = isFedByModelInput(m, op.operands[0]);
            std::vector<std::string> why;
            if (kh != kw)
                why.push_back("kernel " + dims(kh, kw) + " is not square");
            if (input) {
                if (!in(kInputKernels, kh))
                    why.push_back("input convolution kernel " + dims(kh, kw) + " (InputConv2D: 3x3, 5x5, 7x7)");
                if (stride.size() == 2 && (stride[0] != stride[1] || !in(kInputStrides, stride[0])))
                    why.push_back("stride " + dims(stride[0], stride[1]) + " (InputConv2D: 1, 2, 3)");
                if (c != 1 && c != 3)
                    why.push_back(std::to_string(c) + " input channels (InputConv2D: 1 or 3)");
                if (wd < 5 || wd > 256 || h < 5)
                    why.push_back("input " + dims(h, wd) + " (InputConv2D: width 5..256, height >= 5)");
            } else if (groups != 1 && groups == c) {
                if (!in(kSepKernels, kh))
                    why.push_back("depthwise kernel " + dims(kh, kw) + " (SeparableConv2D: 3x3, 5x5, 7x7)");
            } else if (groups != 1) {
                why.push_back("grouped convolution with " + std::to_string(groups) +
                              " groups (Akida: 1 group, or depthwise = SeparableConv2D)");
            } else if (!in(kConvKernels, kh)) {
                why.push_back("kernel " + dims(kh, kw) + " (Conv2D: 1x1, 3x3, 5x5, 7x7)");
            }
            if (!input && stride.size() == 2 &&
                (stride[0] != stride[1] || !in(kConvStrides, stride[0]) || (stride[0] == 2 && kh != 3)))
                why.push_back("stride " + dims(stride[0], stride[1]) + " (Conv2D: 1, or 2 with 3x3 kernels)");
            std::string all;
            for (const auto& s : why)
                all += (all.empty() ? "" : "; ") + s;
            if (!all.empty())
                add(all);
            break;
        }
        case OpKind::MaxPool2d: {
            const auto k = op.attrs.getInts("kernel");
            const auto s = op.attrs.getInts("stride", k);
            const auto p = op.attrs.getInts("padding", {0, 0});
            if (k.size() == 2 && s.size() == 2 &&
                (k[0] != k[1] || k[0] > 2 || s[0] != s[1] || s[0] > k[0] || p != stc::ir::IntList{0, 0}))
                add("max pooling " + dims(k[0], k[1]) + " stride " + dims(s[0], s[1]) +
                    (p != stc::ir::IntList{0, 0} ? " with padding" : "") +
                    " (Akida 1.0 pools 1x1 or 2x2 with stride <= size, no padding)");
            break;
        }
        case OpKind::AvgPool2d: {
            const auto& y = m.typeOf(op.result).shape;
            const auto& x = m.typeOf(op.operands[0]).shape;
            const bool global = y.size() >= 2 && y[y.size() - 1] == 1 && y[y.size() - 2] == 1;
            if (!global)
                add("average pooling to a " + (y.size() >= 2 ? dims(y[y.size() - 2], y[y.size() - 1]) : "?") +
                    " map: Akida 1.0 has global average pooling only");
            else if (x.size() >= 1 && x[x.size() - 1] > 32)
                add("global average pooling over width " + std::to_string(x[x.size() - 1]) + " (Akida 1.0: at most 32)");
            break;
        }
        case OpKind::Linear:
            if (afterMaxPool(m, op.operands[0]))
                add("FullyConnected after max pooling: Akida 1.0 requires a Conv2D / SeparableConv2D after a max-pooling "
                    "layer");
            break;
        default: break;
        }
    }
    return out;
}

// The Akida layer type an NP runs for a population (from its incoming weights).
QString layerType(const Network& net, int32_t pop)
{
    const Population& p = net.populations[size_t(pop)];
    if (p.kind == PopulationKind::Input)
        return "input";
    for (int32_t j : net.incoming(pop)) {
        const Projection& pr = net.projections[size_t(j)];
        const bool fromInput = net.populations[size_t(pr.src)].kind == PopulationKind::Input;
        if (pr.name.ends_with("conv2d"))
            return pr.groups > 1 && pr.groups == pr.inFeatures ? "SeparableConv2D" : fromInput ? "InputConv2D" : "Conv2D";
        if (pr.name.ends_with("linear"))
            return "FullyConnected";
    }
    return p.kind == PopulationKind::Relay ? "pooling" : toString(p.kind);
}

class AkidaBackend : public Backend {
public:
    std::string name() const override { return "akida"; }
    std::vector<std::string> chips() const override { return {"akida1000"}; }

    std::vector<LayerIssue> checkLayers(const stc::ir::Module& m, const ChipDescriptor& chip) const override
    {
        return akidaRules(m, chip);
    }

    bool emitPackage(const Network& net, const Mapping& mapping, const ChipDescriptor& chip,
                     const std::string& pipeline, const std::string& outDir, std::string* listing,
                     std::string* error) override
    {
        auto coreTypes = [&](size_t c) {
            QStringList types;
            for (int32_t s : mapping.cores[c].slices) {
                const QString t = layerType(net, mapping.slices[size_t(s)].pop);
                if (!types.contains(t))
                    types << t;
            }
            return types;
        };
        stc::plugins::DeploymentSpec spec;
        spec.format = "stc.akida/1";
        spec.target = "akida";
        spec.coreUnit = "NP";
        spec.tileUnit = "node";
        spec.layerExtra = [&](int32_t pop, QJsonObject& o) { o["akida_layer_type"] = layerType(net, pop); };
        spec.coreExtra = [&](size_t c, QJsonObject& o) {
            o["akida_layer_types"] = QJsonArray::fromStringList(coreTypes(c));
        };
        spec.coreListingExtra = [&](size_t c) { return coreTypes(c).join("+"); };
        spec.manifestExtra = [&](QJsonObject& o) {
            o["weight_bits"] = net.quantized ? QJsonValue(qint64(chip.limits.weightBits)) : QJsonValue("float");
            o["status"] = "description only: no MetaTF / akida model file (.fbz) is generated yet (ROADMAP.md)";
        };
        return stc::plugins::writeDeployment(spec, net, mapping, chip, pipeline, outDir, listing, error);
    }
};

} // namespace

class AkidaBackendPlugin : public QObject, public stc::plugins::BackendPlugin {
    Q_OBJECT
    Q_PLUGIN_METADATA(IID "org.stc.Backend/5" FILE "meta.json")
    Q_INTERFACES(stc::plugins::BackendPlugin)
public:
    std::unique_ptr<Backend> createBackend() override { return std::make_unique<AkidaBackend>(); }
};

#include "akida_backend_plugin.moc"
