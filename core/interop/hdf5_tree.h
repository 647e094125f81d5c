// A small tree of HDF5 groups and datasets, independent of the HDF5 library,
// and its writer. Used for lava-dl netx files (docs/netx.md), which need what
// h5py writes for numpy arrays, Python ints/bools and strings: fixed-length
// ASCII strings ('S10'), variable-length strings, int64, float32 and the
// FALSE/TRUE enum h5py stores for numpy bools. Only hdf5_tree.cpp (and
// nir_hdf5.cpp) see the HDF5 headers; without HDF5 at configure time
// writeHdf5Tree reports "not available in this build".
#pragma once

#include "ir/types.h"
#include "util/diagnostics.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stc::interop {

struct H5Dataset {
    enum class Kind : uint8_t { Float32, Float64, Int64, Bool, FixedString, VarString };
    Kind kind = Kind::Float64;
    ir::Shape shape; // empty = scalar dataset
    std::vector<double> numbers; // Float32, Float64, Int64, Bool (0/1)
    std::vector<std::string> strings; // FixedString, VarString
    size_t fixedSize = 0; // FixedString: bytes per string (numpy 'S10' = 10)

    static H5Dataset int64(int64_t v) { return {Kind::Int64, {}, {static_cast<double>(v)}, {}, 0}; }
    static H5Dataset ints(const std::vector<int64_t>& v);
    static H5Dataset boolean(bool v) { return {Kind::Bool, {}, {v ? 1.0 : 0.0}, {}, 0}; }
    static H5Dataset float64(double v) { return {Kind::Float64, {}, {v}, {}, 0}; }
    static H5Dataset floats32(const ir::Shape& shape, std::vector<double> values)
    {
        return {Kind::Float32, shape, std::move(values), {}, 0};
    }
    static H5Dataset varString(std::string s) { return {Kind::VarString, {}, {}, {std::move(s)}, 0}; }
    static H5Dataset fixedStrings(const ir::Shape& shape, std::vector<std::string> s, size_t size)
    {
        return {Kind::FixedString, shape, {}, std::move(s), size};
    }
};

struct H5Group {
    std::map<std::string, H5Dataset> datasets;
    std::vector<std::pair<std::string, H5Group>> groups; // in creation order

    H5Group& group(const std::string& name); // the child `name`, created when missing
    const H5Group* find(const std::string& name) const;
};

bool hdf5TreeAvailable();

// Writes `root` as the file's root group; replaces `path` atomically. `what`
// names the format in errors ("lava-dl netx").
Diagnostics writeHdf5Tree(const H5Group& root, const std::string& path, const std::string& what);

} // namespace stc::interop
