// Pooling: 2-D pools map directly; 1-D pools run as 2-D pools over [C, 1, L];
// adaptive pools become fixed pools when the windows are uniform.
#include "lowering_internal.h"

namespace stc::torchscript {

namespace {

using ir::OpKind;

ir::IntList ilist(const std::vector<int64_t>& v) { return ir::IntList(v.begin(), v.end()); }

std::vector<int64_t> intsOr(Lowerer& L, size_t i, std::vector<int64_t> def, size_t n)
{
    auto v = L.argInts(i);
    if (!v || v->empty())
        return def;
    if (v->size() == 1 && n > 1)
        v->assign(n, (*v)[0]);
    return *v;
}

bool boolArg(Lowerer& L, size_t i, bool def)
{
    if (i >= L.node->inputs.size())
        return def;
    const RecArg& a = L.node->inputs[i];
    return a.kind == RecArg::Kind::Bool ? a.b : a.kind == RecArg::Kind::Int ? a.i != 0 : def;
}

// Adaptive average pooling with windows of different sizes is linear in the
// input: window sums as a 0/1 matrix product, then times 1/window size.
void adaptiveAverage(Lowerer& L, const AbsValue& x, const std::vector<int64_t>& in, const std::vector<int64_t>& out)
{
    std::vector<int64_t> inDims = in, outDims = out;
    if (in.size() == 1) {
        inDims.insert(inDims.begin(), 1);
        outDims.insert(outDims.begin(), 1);
    }
    const int64_t H = inDims[0], W = inDims[1], OH = outDims[0], OW = outDims[1];
    std::vector<float> sums(size_t(OH * OW * H * W), 0.0f), inv(size_t(OH * OW));
    for (int64_t i = 0; i < OH; ++i)
        for (int64_t j = 0; j < OW; ++j) {
            const int64_t h0 = i * H / OH, h1 = ((i + 1) * H + OH - 1) / OH;
            const int64_t w0 = j * W / OW, w1 = ((j + 1) * W + OW - 1) / OW;
            for (int64_t h = h0; h < h1; ++h)
                for (int64_t w = w0; w < w1; ++w)
                    sums[size_t((i * OW + j) * H * W + h * W + w)] = 1.0f;
            inv[size_t(i * OW + j)] = float(1.0 / double((h1 - h0) * (w1 - w0)));
        }
    const int64_t C = L.m.typeOf(x.ir).shape[0];
    const ir::ValueId flat = L.reshapeTo(x.ir, {C, H * W});
    const ir::ValueId w = L.constant(ir::Tensor::fromFloats({OH * OW, H * W}, std::move(sums)), "adaptive_window");
    const ir::ValueId sum = L.emit(OpKind::Linear, {flat, w}, {}, "adaptive_sum");
    const ir::ValueId scale = L.constant(ir::Tensor::fromFloats({OH * OW}, std::move(inv)), "adaptive_scale");
    const ir::ValueId avg = L.emit(OpKind::Mul, {sum, scale}, {}, "adaptive_avg");
    std::vector<int64_t> shape{C};
    shape.insert(shape.end(), out.begin(), out.end());
    L.note(Severity::Note, "adaptive average pooling with unequal windows is imported as window sums times "
                           "1/window size (may differ from LibTorch in the last bit)");
    L.setOut(0, L.make(x, L.reshapeTo(avg, shape), x.layout));
}

} // namespace

void lowerPooling(Lowerer& L)
{
    const std::string& k = L.node->kind;
    const AbsValue x = L.operand(0);
    if (!x.ok())
        return;
    const bool oneD = k.find("1d") != std::string::npos;
    const size_t spatial = oneD ? 1 : 2;
    const Layout& l = x.layout;
    bool ok = l.size() == spatial + 2 && l[0].role != Role::Feature; // batch, time*batch (or time, B = 1)
    for (size_t i = 1; ok && i < l.size(); ++i)
        ok = l[i].role == Role::Feature && l[i].feature == int(i - 1);
    if (!ok) {
        L.unsupported("pooling expects [batch, C, ...spatial] with channels as features, got layout " + toString(l));
        return;
    }
    const auto& inS = L.argShape(0);
    const bool isMax = k.find("max") != std::string::npos;
    std::vector<int64_t> kernel, stride, padding, dilation{1};
    bool ceil = false, countPad = true;
    int64_t divisor = 0;
    if (k.find("adaptive") != std::string::npos) {
        auto outSize = L.argInts(1).value_or(std::vector<int64_t>{});
        if (outSize.size() == 1 && spatial == 2)
            outSize.push_back(outSize[0]);
        std::vector<int64_t> in, out;
        bool uniform = true;
        for (size_t i = 0; i < spatial; ++i) {
            in.push_back(inS[inS.size() - spatial + i]);
            out.push_back(i < outSize.size() && outSize[i] > 0 ? outSize[i] : in.back());
            uniform = uniform && in.back() % out.back() == 0;
            kernel.push_back(in.back() / std::max<int64_t>(out.back(), 1));
        }
        if (!uniform) {
            if (isMax) {
                L.unsupported("adaptive max pooling from " + ir::shapeToString(in) + " to " +
                              ir::shapeToString(out) + " needs windows of different sizes");
                return;
            }
            adaptiveAverage(L, x, in, out);
            return;
        }
        stride = kernel;
        padding.assign(spatial, 0);
        dilation.assign(spatial, 1);
    } else {
        kernel = intsOr(L, 1, {}, spatial);
        stride = intsOr(L, 2, kernel, spatial);
        padding = intsOr(L, 3, std::vector<int64_t>(spatial, 0), spatial);
        if (isMax) {
            dilation = intsOr(L, 4, std::vector<int64_t>(spatial, 1), spatial);
            ceil = boolArg(L, 5, false);
        } else {
            dilation.assign(spatial, 1);
            ceil = boolArg(L, 4, false);
            countPad = boolArg(L, 5, true);
            if (!oneD && L.argScalar(6))
                divisor = int64_t(*L.argScalar(6));
        }
    }
    if (oneD) { // [C, L] -> [C, 1, L], pool with a 1 x k window, back to [C, L']
        kernel.insert(kernel.begin(), 1);
        stride.insert(stride.begin(), 1);
        padding.insert(padding.begin(), 0);
        dilation.insert(dilation.begin(), 1);
    }
    ir::Attributes a;
    a.set("kernel", ilist(kernel));
    a.set("stride", ilist(stride));
    a.set("padding", ilist(padding));
    a.set("ceil_mode", ceil);
    if (isMax) {
        a.set("dilation", ilist(dilation));
    } else {
        a.set("count_include_pad", countPad);
        if (divisor)
            a.set("divisor_override", divisor);
    }
    ir::ValueId in = x.ir;
    const auto& shape = L.m.typeOf(x.ir).shape;
    if (oneD)
        in = L.reshapeTo(x.ir, {shape[0], 1, shape[1]});
    ir::ValueId v = L.emit(isMax ? OpKind::MaxPool2d : OpKind::AvgPool2d, {in}, a, isMax ? "maxpool" : "avgpool");
    if (oneD && v != ir::kNoValue) {
        const auto& s = L.m.typeOf(v).shape;
        v = L.reshapeTo(v, {s[0], s[2]});
    }
    L.setOut(0, L.make(x, v, x.layout));
    const auto outs = L.node->dynOutputs();
    if (outs.size() > 1) // the indices of *_with_indices / adaptive max pools
        L.setOut(1, AbsValue::error());
}

} // namespace stc::torchscript
