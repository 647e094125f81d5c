// The geometry of one netx layer's synapse: which layer it reads, the flatten
// netx needs before a dense layer that reads a conv, and an average pool
// folded into the weights. Upstream references (lava-nc/lava-dl at d825ac5):
//   H = src/lava/lib/dl/netx/hdf5.py
#include "interop/netx_connect.h"

#include "interop/export_diag.h"

namespace stc::interop {

namespace {

std::string shapeText(const ir::Shape& s) { return "[" + ir::shapeToString(s) + "]"; }

// conv2d after an average pool (kernel = stride = [ph, pw], no padding, sizes
// divisible): pool then conv equals one conv with the kernel spread over
// ph x pw blocks, divided by ph*pw, and stride and padding times the pool.
void foldPoolIntoConv(const ir::IntList& pool, ir::Shape& wShape, std::vector<double>& w, ir::IntList& stride,
                      ir::IntList& padding)
{
    const int64_t O = wShape[0], I = wShape[1], KH = wShape[2], KW = wShape[3];
    const int64_t ph = pool[0], pw = pool[1];
    const ir::Shape outShape{O, I, KH * ph, KW * pw};
    std::vector<double> out(static_cast<size_t>(ir::numElements(outShape)));
    const double div = static_cast<double>(ph * pw);
    for (int64_t o = 0; o < O; ++o)
        for (int64_t i = 0; i < I; ++i)
            for (int64_t y = 0; y < KH * ph; ++y)
                for (int64_t x = 0; x < KW * pw; ++x)
                    out[static_cast<size_t>(((o * I + i) * KH * ph + y) * KW * pw + x)] =
                        w[static_cast<size_t>(((o * I + i) * KH + y / ph) * KW + x / pw)] / div;
    w = std::move(out);
    wShape = outShape;
    stride = {stride[0] * ph, stride[1] * pw};
    padding = {padding[0] * ph, padding[1] * pw};
}

// linear after an average pool of [C, H, W] (flattened row-major): each input
// feature of the pooled map spreads over its ph x pw block, divided by ph*pw.
void foldPoolIntoDense(const NetxPool& pool, ir::Shape& wShape, std::vector<double>& w)
{
    const int64_t O = wShape[0];
    const int64_t C = pool.unpooled[0], H = pool.unpooled[1], W = pool.unpooled[2];
    const int64_t ph = pool.kernel[0], pw = pool.kernel[1], Hp = H / ph, Wp = W / pw;
    const int64_t in = C * H * W, inPooled = C * Hp * Wp;
    std::vector<double> out(static_cast<size_t>(O * in));
    const double div = static_cast<double>(ph * pw);
    for (int64_t o = 0; o < O; ++o)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t y = 0; y < H; ++y)
                for (int64_t x = 0; x < W; ++x)
                    out[static_cast<size_t>(o * in + (c * H + y) * W + x)] =
                        w[static_cast<size_t>(o * inPooled + (c * Hp + y / ph) * Wp + x / pw)] / div;
    w = std::move(out);
    wShape = {O, in};
}

} // namespace

bool netxConnect(const ir::Module& m, Diagnostics& d, const ir::Op& at, const ir::Op& synapse, int sourceLayer,
                 const NetxPool& pool, NetxNetwork& net, NetxLayer& layer, std::vector<double>& weight)
{
    auto fail = [&](const std::string& msg) {
        opError(d, m, at, "its synapse %" + m.value(synapse.result).name + ": " + msg);
        return false;
    };
    NetxLayer& src = net.layers[static_cast<size_t>(sourceLayer)];
    const ir::Shape& xs = m.typeOf(synapse.operands[0]).shape;
    const bool pooled = !pool.kernel.empty();
    // The shape netx sees at the synapse's input: the source layer's (before a folded pool).
    const ir::Shape in = pooled ? pool.unpooled : xs;
    const ir::Tensor& wt = *m.definingOp(synapse.operands[1]).constant;
    for (float f : wt.toFloats())
        weight.push_back(f);
    layer.weightShape = wt.shape();
    if (src.type == "input") {
        src.shape = in; // netx takes the input shape from here (H:596-597) and reverses it to (W, H, C)
    }
    if (synapse.kind == ir::OpKind::Conv2d) {
        if (src.type != "input" && src.type != "conv")
            return fail("a conv2d after a " + src.type + " layer: netx feeds a conv the previous layer's [C, H, W] "
                        "shape (H:600-601), which a " + src.type + " layer does not have");
        if (src.shape != in)
            return fail("it reads " + shapeText(in) + " but the previous netx layer has shape " + shapeText(src.shape));
        if (pooled && xs != pool.pooled)
            return fail("it reads the average pool through a reshape " + shapeText(xs) + "; netx convs read [C, H, W]");
        layer.type = "conv";
        layer.stride = synapse.attrs.getInts("stride", {1, 1});
        layer.padding = synapse.attrs.getInts("padding", {0, 0});
        layer.dilation = synapse.attrs.getInts("dilation", {1, 1});
        layer.groups = synapse.attrs.getInt("groups", 1);
        if (layer.stride.size() != 2 || layer.padding.size() != 2 || layer.dilation.size() != 2)
            return fail("stride, padding and dilation must be pairs");
        if (pooled) {
            if (layer.dilation != ir::IntList{1, 1})
                return fail("an average pool before a dilated conv is not folded");
            foldPoolIntoConv(pool.kernel, layer.weightShape, weight, layer.stride, layer.padding);
        }
        layer.kernel = {layer.weightShape[2], layer.weightShape[3]};
        layer.shape = m.typeOf(synapse.result).shape;
        return true;
    }
    // linear: a dense layer over a vector.
    const int64_t features = ir::numElements(in);
    if (ir::numElements(xs) != (pooled ? ir::numElements(pool.pooled) : features))
        return fail("its input " + shapeText(xs) + " does not match the previous layer " + shapeText(in));
    if (src.type == "conv") {
        // netx flattens a conv layer's (W, H, C) output as transpose([2, 1, 0]).flatten(),
        // i.e. in [C, H, W] row-major order, ours (H:655-660, H:634-636).
        NetxLayer flatten;
        flatten.type = "flatten";
        flatten.shape = {features, 1, 1}; // slayer's Flatten block shape (SB:189, written at SB:204-207)
        flatten.source = "(flatten of layer " + std::to_string(sourceLayer) + ")";
        net.layers.push_back(std::move(flatten));
    } else if (src.type == "dense" && src.shape != ir::Shape{features}) {
        return fail("it reads " + std::to_string(features) + " features but the previous layer has " +
                    shapeText(src.shape));
    }
    if (pooled) {
        if (src.type != "conv")
            return fail("an average pool folded into a dense layer must pool a conv layer's [C, H, W] spikes");
        foldPoolIntoDense(pool, layer.weightShape, weight);
    }
    layer.type = "dense";
    layer.shape = {layer.weightShape[0]}; // slayer's dense neuron shape (SB:584; synapse/layer.py:167-170)
    return true;
}

} // namespace stc::interop
