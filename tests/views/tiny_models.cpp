#include "tiny_models.h"

#include "document/stages.h"
#include "jobs/job_runner.h"
#include "main/main_window.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>

#include <stdexcept>

namespace stc::test {

namespace {

struct Builder {
    ir::Module& m;
    uint32_t state = 12345;
    float next(float lo, float hi)
    {
        state = state * 1664525u + 1013904223u;
        return lo + (hi - lo) * float(state >> 8) / float(1u << 24);
    }
    ir::ValueId weights(ir::Shape shape, float lo, float hi, const std::string& origin)
    {
        std::vector<float> v(size_t(ir::numElements(shape)));
        for (float& x : v)
            x = next(lo, hi);
        return m.addConst(ir::Tensor::fromFloats(std::move(shape), std::move(v)), {}, origin);
    }
    ir::ValueId constant(ir::Shape shape, float value, const std::string& origin)
    {
        std::vector<float> v(size_t(ir::numElements(shape)), value);
        return m.addConst(ir::Tensor::fromFloats(std::move(shape), std::move(v)), {}, origin);
    }
    ir::ValueId op(ir::OpKind k, std::vector<ir::ValueId> in, ir::Attributes a, const std::string& origin)
    {
        std::string error;
        const ir::ValueId v = m.build(k, std::move(in), std::move(a), origin, {}, &error);
        if (v == ir::kNoValue)
            throw std::runtime_error("test module: " + origin + ": " + error);
        return v;
    }
    ir::ValueId lif(ir::ValueId x, const std::string& origin, double threshold = 1.0)
    {
        ir::Attributes a;
        a.set("neuron", std::string("lif"));
        a.set("tau", 2.0);
        a.set("decay_input", true);
        a.set("v_threshold", threshold);
        a.set("v_reset", 0.0);
        a.set("reset", std::string("hard"));
        return op(ir::OpKind::Lif, {x}, a, origin);
    }
    ir::ValueId linear(ir::ValueId x, int64_t in, int64_t out, const std::string& origin)
    {
        return op(ir::OpKind::Linear, {x, weights({out, in}, -0.25f, 0.6f, origin), constant({out}, 0.1f, origin)}, {},
                  origin);
    }
};

} // namespace

ir::Module makeTinySpikformer(int blocks)
{
    ir::Module m;
    m.name = "tiny_spikformer";
    m.timesteps = 4;
    Builder b{m};
    const ir::ValueId x = m.addInput({ir::ElemType::F32, {1, 28, 28}, ir::TimeKind::Invariant}, "x");
    ir::Attributes enc;
    enc.set("mode", std::string("direct"));
    ir::ValueId h = b.op(ir::OpKind::Encode, {x}, enc, "encode");
    ir::Attributes conv;
    conv.set("stride", ir::IntList{2, 2});
    conv.set("padding", ir::IntList{1, 1});
    h = b.op(ir::OpKind::Conv2d, {h, b.weights({8, 1, 3, 3}, -0.2f, 0.7f, "patch_embed.proj_conv")}, conv,
             "patch_embed.proj_conv");
    ir::Attributes bn;
    bn.set("eps", 1e-5);
    h = b.op(ir::OpKind::BatchNorm,
             {h, b.constant({8}, 0.0f, "patch_embed.proj_bn"), b.constant({8}, 1.0f, "patch_embed.proj_bn"),
              b.constant({8}, 1.2f, "patch_embed.proj_bn"), b.constant({8}, 0.1f, "patch_embed.proj_bn")},
             bn, "patch_embed.proj_bn");
    h = b.lif(h, "patch_embed.proj_lif");
    ir::Attributes flat;
    flat.set("start", int64_t(1));
    h = b.op(ir::OpKind::Flatten, {h}, flat, "patch_embed.flatten");
    ir::Attributes perm;
    perm.set("perm", ir::IntList{1, 0});
    h = b.op(ir::OpKind::Permute, {h}, perm, "patch_embed.transpose"); // [196, 8]

    for (int i = 0; i < blocks; ++i) {
        const std::string p = "blocks." + std::to_string(i);
        const ir::ValueId q = b.lif(b.linear(h, 8, 8, p + ".attn.q_linear"), p + ".attn.q_lif");
        const ir::ValueId k = b.lif(b.linear(h, 8, 8, p + ".attn.k_linear"), p + ".attn.k_lif");
        const ir::ValueId v = b.lif(b.linear(h, 8, 8, p + ".attn.v_linear"), p + ".attn.v_lif");
        const ir::ValueId kt = b.op(ir::OpKind::Permute, {k}, perm, p + ".attn.k_transpose");
        ir::ValueId a = b.op(ir::OpKind::MatMul, {q, kt}, {}, p + ".attn.qk");
        ir::Attributes scale;
        scale.set("factor", 0.125);
        a = b.op(ir::OpKind::Scale, {a}, scale, p + ".attn.scale");
        a = b.op(ir::OpKind::MatMul, {a, v}, {}, p + ".attn.av");
        a = b.lif(a, p + ".attn.attn_lif", 0.5);
        a = b.lif(b.linear(a, 8, 8, p + ".attn.proj_linear"), p + ".attn.proj_lif");
        h = b.op(ir::OpKind::Add, {h, a}, {}, p + ".attn_residual");
        ir::ValueId f = b.lif(b.linear(h, 8, 16, p + ".mlp.fc1_linear"), p + ".mlp.fc1_lif");
        f = b.lif(b.linear(f, 16, 8, p + ".mlp.fc2_linear"), p + ".mlp.fc2_lif");
        h = b.op(ir::OpKind::Add, {h, f}, {}, p + ".mlp_residual");
    }
    ir::Attributes mean;
    mean.set("axes", ir::IntList{0});
    mean.set("over_time", true);
    h = b.op(ir::OpKind::Mean, {h}, mean, "head.mean");
    h = b.linear(h, 8, 10, "head.linear");
    m.addOutput({h});
    return m;
}

QString writeSir(const ir::Module& m, const QString& name)
{
    const QString dir = QDir::temp().filePath("stc-views-tests");
    QDir().mkpath(dir);
    const QString path = QDir(dir).filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        throw std::runtime_error("cannot write " + path.toStdString());
    f.write(QByteArray::fromStdString(views::printIr(m, false)));
    return path;
}

bool openAndWait(views::MainWindow& w, const QString& path, int timeoutMs)
{
    QSignalSpy opened(&w, &views::MainWindow::fileOpened);
    w.openFile(path);
    if (!opened.wait(timeoutMs))
        return false;
    w.jobs()->waitForIdle(timeoutMs);
    return opened.first().at(1).toBool();
}

} // namespace stc::test
