// Helpers for the interpreter tests: build small modules with Module::build
// and run them.
#pragma once

#include "interp/interpreter.h"
#include "ir/module.h"

#include <QString>
#include <QtTest>

#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace stc::test {

using ir::OpKind;

inline ir::Attributes attrs(std::initializer_list<std::pair<const char*, ir::AttrValue>> kv)
{
    ir::Attributes a;
    for (const auto& [k, v] : kv)
        a.set(k, v);
    return a;
}

struct TestModule {
    ir::Module m;
    std::string error; // first build error

    explicit TestModule(int64_t timesteps = 1) { m.timesteps = timesteps; }

    ir::ValueId input(ir::Shape shape, std::string name = {})
    {
        return m.addInput(ir::Type{ir::ElemType::F32, std::move(shape), ir::TimeKind::Invariant}, std::move(name));
    }
    ir::ValueId constant(ir::Shape shape, std::vector<float> values, std::string name = {})
    {
        if (int64_t(values.size()) != ir::numElements(shape) && error.empty())
            error = "constant " + name + " has the wrong number of values";
        return m.addConst(ir::Tensor::fromFloats(std::move(shape), std::move(values)), std::move(name));
    }
    ir::ValueId op(OpKind kind, std::vector<ir::ValueId> operands, ir::Attributes a = {}, std::string name = {})
    {
        if (!error.empty())
            return ir::kNoValue;
        std::string e;
        const ir::ValueId v = m.build(kind, std::move(operands), std::move(a), {}, std::move(name), &e);
        if (v == ir::kNoValue)
            error = std::string(ir::opName(kind)) + ": " + e;
        return v;
    }
    void output(std::vector<ir::ValueId> values) { m.addOutput(std::move(values)); }
};

inline std::vector<float> iota(int64_t n, float start = 1.0f, float step = 1.0f)
{
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        v[size_t(i)] = start + step * float(i);
    return v;
}

// Small integers: every sum of products stays exact in float, so results do
// not depend on the summation order and can be compared bit for bit.
inline std::vector<float> smallInts(int64_t n, uint32_t seed, int lo = -3, int hi = 3)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> d(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v)
        x = float(d(rng));
    return v;
}

inline std::vector<float> uniform(int64_t n, uint32_t seed, float lo, float hi)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v)
        x = d(rng);
    return v;
}

inline QString describe(const std::vector<float>& v, size_t max = 24)
{
    QString s = "[";
    for (size_t i = 0; i < v.size() && i < max; ++i)
        s += (i ? ", " : "") + QString::number(double(v[i]), 'g', 9);
    if (v.size() > max)
        s += ", ...";
    return s + "]";
}

// Bitwise comparison with a readable failure message.
#define STC_COMPARE_FLOATS(actual, expected)                                                                         \
    do {                                                                                                             \
        const std::vector<float> a_ = (actual), e_ = (expected);                                                    \
        QVERIFY2(a_.size() == e_.size(), qPrintable(QString("size %1 != %2").arg(a_.size()).arg(e_.size())));      \
        for (size_t i_ = 0; i_ < a_.size(); ++i_)                                                                    \
            if (!(a_[i_] == e_[i_] || (a_[i_] != a_[i_] && e_[i_] != e_[i_])))                                      \
                QVERIFY2(false, qPrintable(QString("element %1: got %2, expected %3\n  got      %4\n  expected %5")             \
                                    .arg(i_)                                                                         \
                                    .arg(double(a_[i_]), 0, 'g', 9)                                                  \
                                    .arg(double(e_[i_]), 0, 'g', 9)                                                  \
                                    .arg(stc::test::describe(a_))                                                    \
                                    .arg(stc::test::describe(e_))));                                                 \
    } while (0)

// Runs `tm` on one input (batch 1 unless given) and returns the first output.
inline interp::RunResult runOne(const TestModule& tm, std::vector<float> input, int64_t batch = 1, int threads = 1)
{
    interp::RunOptions opt;
    opt.threads = threads;
    return interp::run(tm.m, {interp::InputBatch{batch, std::move(input)}}, opt);
}

} // namespace stc::test
