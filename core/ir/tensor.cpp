#include "ir/tensor.h"

namespace stc::ir {

Tensor::Tensor(ElemType elem, Shape shape)
    : elem_(elem), shape_(std::move(shape)),
      bytes_(static_cast<size_t>(ir::numElements(shape_) * elemByteSize(elem)), 0)
{
}

Tensor Tensor::fromFloats(Shape shape, std::vector<float> values)
{
    Tensor t(ElemType::F32, std::move(shape));
    if (!values.empty())
        std::memcpy(t.bytes_.data(), values.data(), std::min(t.bytes_.size(), values.size() * sizeof(float)));
    return t;
}

double Tensor::at(int64_t i) const
{
    switch (elem_) {
    case ElemType::F32: return as<float>()[i];
    case ElemType::I16: return as<int16_t>()[i];
    case ElemType::I32: return as<int32_t>()[i];
    case ElemType::Spike: return as<uint8_t>()[i];
    case ElemType::I8:
    case ElemType::Graded: return as<int8_t>()[i];
    }
    return 0.0;
}

std::vector<float> Tensor::toFloats() const
{
    if (elem_ == ElemType::F32) {
        auto s = as<float>();
        return {s.begin(), s.end()};
    }
    std::vector<float> out(static_cast<size_t>(numElements()));
    for (int64_t i = 0; i < numElements(); ++i)
        out[static_cast<size_t>(i)] = static_cast<float>(at(i));
    return out;
}

} // namespace stc::ir
