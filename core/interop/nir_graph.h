// NIR (Neuromorphic Intermediate Representation) graph as stored in a .nir
// HDF5 file, independent of HDF5: nodes with typed datasets, edges, metadata.
// Follows NIR 1.0.7 (github.com/neuromorphs/NIR, nir/serialization.py); see docs/nir.md.
#pragma once

#include "ir/types.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stc::interop {

// The NIR version written into files and the one whose node set we read.
inline constexpr const char* kNirVersion = "1.0.7";

// A numeric dataset. Values are held as double: exact for float32, float64
// and integers up to 2^53 (shapes, strides). `dtype` is what the file holds
// or what the writer will use.
struct NirArray {
    enum class DType : uint8_t { Float32, Float64, Int64 };
    DType dtype = DType::Float64;
    ir::Shape shape; // empty = scalar dataset
    std::vector<double> values;

    static NirArray scalar(double v, DType t = DType::Float64) { return {t, {}, {v}}; }
    static NirArray ints(const std::vector<int64_t>& v);
    static NirArray filled(const ir::Shape& shape, double v, DType t = DType::Float64);
    int64_t size() const { return static_cast<int64_t>(values.size()); }
};

// A string dataset (scalar "type", or the N x 2 "edges" table).
struct NirStrings {
    ir::Shape shape; // empty = scalar
    std::vector<std::string> values;
};

// The datasets of one HDF5 group, by name.
struct NirFields {
    std::map<std::string, NirArray> arrays;
    std::map<std::string, NirStrings> strings;

    bool empty() const { return arrays.empty() && strings.empty(); }
    const NirArray* array(const std::string& key) const;
    const std::string* string(const std::string& key) const; // a scalar string dataset
    void setString(const std::string& key, std::string value) { strings[key] = {{}, {std::move(value)}}; }
};

struct NirGraph;

struct NirNode {
    std::string name; // the group name under /node/nodes
    std::string type; // "LIF", "Conv2d", ... (the dataset "type")
    NirFields fields; // every dataset except "type" (and a nested graph's "edges")
    NirFields metadata; // the optional "metadata" group
    std::string path; // its HDF5 group, e.g. /node/nodes/lif1/nodes/lif ("" = /node/nodes/<name>)
    std::shared_ptr<const NirGraph> subgraph; // the nodes and edges of a nested NIRGraph node
};

struct NirGraph {
    std::string version; // the file's /version ("" when writing: kNirVersion is used)
    std::vector<NirNode> nodes;
    std::vector<std::pair<std::string, std::string>> edges;
    NirFields metadata; // /node/metadata

    const NirNode* find(const std::string& name) const;
};

// A graph without nested NIRGraph nodes: each nested node's nodes are put in
// its place, named "<graph>.<node>" (NIR's own naming of nested nodes); its
// Input/Output nodes become kNirPassThrough nodes (their "shape" kept). An outer
// edge may name the nested graph itself (its one Input or Output) or
// "<graph>.<node>". Problems (edges naming no node, clashing names) are errors
// at the HDF5 path.
inline constexpr const char* kNirPassThrough = "stc.PassThrough";
struct NirFlattenResult {
    NirGraph graph;
    std::vector<std::pair<std::string, std::string>> errors; // (HDF5 path, message)
};
NirFlattenResult flattenNirGraph(const NirGraph& g);

// The single value of an array whose elements are all equal (NIR stores neuron
// parameters per neuron); nullopt if empty or not uniform.
std::optional<double> uniformValue(const NirArray& a);

// A node group name: HDF5 link names cannot contain '/' and '.' alone is reserved.
std::string nirNodeName(const std::string& valueName);

} // namespace stc::interop
