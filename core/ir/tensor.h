// Dense constant tensors (weights, biases, BN statistics, quantized tables).
#pragma once

#include "ir/types.h"

#include <cstring>
#include <memory>
#include <span>
#include <vector>

namespace stc::ir {

class Tensor {
public:
    Tensor() = default;
    Tensor(ElemType elem, Shape shape);
    static Tensor fromFloats(Shape shape, std::vector<float> values);

    ElemType elem() const { return elem_; }
    const Shape& shape() const { return shape_; }
    int64_t numElements() const { return ir::numElements(shape_); }
    int64_t byteSize() const { return static_cast<int64_t>(bytes_.size()); }

    std::span<const uint8_t> bytes() const { return bytes_; }
    std::span<uint8_t> mutableBytes() { return bytes_; }

    template <typename T> std::span<const T> as() const
    {
        return {reinterpret_cast<const T*>(bytes_.data()), bytes_.size() / sizeof(T)};
    }
    template <typename T> std::span<T> mutableAs()
    {
        return {reinterpret_cast<T*>(bytes_.data()), bytes_.size() / sizeof(T)};
    }

    // Element i converted to double, whatever the storage type.
    double at(int64_t i) const;
    // All elements as floats (a copy), whatever the storage type.
    std::vector<float> toFloats() const;

    // Bitwise equality (so -0.0 != 0.0 and NaN payloads are compared exactly).
    friend bool operator==(const Tensor& a, const Tensor& b)
    {
        return a.elem_ == b.elem_ && a.shape_ == b.shape_ && a.bytes_ == b.bytes_;
    }

private:
    ElemType elem_ = ElemType::F32;
    Shape shape_;
    std::vector<uint8_t> bytes_;
};

using TensorPtr = std::shared_ptr<const Tensor>;

} // namespace stc::ir
