#include "interop/nir_hdf5.h"

#if STC_HAVE_HDF5

#include "interop/hdf5_handle.h"

#include <hdf5.h>

#include <filesystem>
#include <system_error>

namespace stc::interop {

namespace {

// Datasets larger than this (1 GiB as double) are refused: a corrupt header must not make us allocate terabytes.
constexpr int64_t kMaxDatasetElements = int64_t{1} << 27;
constexpr int kMaxNesting = 16; // HDF5 hard links can form cycles: bound the recursion

using Handle = Hdf5Handle;

class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}
    Diagnostics d;

    void error(const std::string& path, const std::string& msg) { d.error({file_, 0, 0}, path, msg); }

    std::vector<std::string> children(hid_t group)
    {
        std::vector<std::string> names;
        H5G_info_t info;
        if (H5Gget_info(group, &info) < 0)
            return names;
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            const ssize_t len = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
            if (len < 0)
                continue;
            std::string name(static_cast<size_t>(len), '\0');
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
            names.push_back(std::move(name));
        }
        return names;
    }

    // Reads one dataset into `fields`; false (with an error unless `quiet`) when unsupported.
    bool readDataset(hid_t ds, const std::string& name, const std::string& path, NirFields& fields, bool quiet)
    {
        Handle type(H5Dget_type(ds), H5Tclose), space(H5Dget_space(ds), H5Sclose);
        if (!type.ok() || !space.ok())
            return quiet ? false : (error(path, "unreadable dataset"), false);
        ir::Shape shape;
        int64_t n = 1;
        if (H5Sget_simple_extent_type(space.get()) == H5S_NULL) {
            n = 0;
            shape = {0};
        } else {
            const int rank = H5Sget_simple_extent_ndims(space.get());
            if (rank < 0 || rank > 8)
                return quiet ? false : (error(path, "dataset rank " + std::to_string(rank) + " is not supported"), false);
            std::vector<hsize_t> dims(static_cast<size_t>(rank));
            H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
            for (hsize_t dim : dims) {
                if (dim > static_cast<hsize_t>(kMaxDatasetElements) || (n *= static_cast<int64_t>(dim)) > kMaxDatasetElements)
                    return quiet ? false : (error(path, "dataset is too large"), false);
                shape.push_back(static_cast<int64_t>(dim));
            }
        }
        const H5T_class_t cls = H5Tget_class(type.get());
        const size_t size = H5Tget_size(type.get());
        if (cls == H5T_INTEGER || (cls == H5T_FLOAT && (size == 4 || size == 8))) {
            NirArray a{cls == H5T_INTEGER ? NirArray::DType::Int64
                                          : size == 4 ? NirArray::DType::Float32 : NirArray::DType::Float64,
                       shape, std::vector<double>(static_cast<size_t>(n))};
            if (n > 0 && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
                return quiet ? false : (error(path, "cannot read the numbers of this dataset"), false);
            fields.arrays[name] = std::move(a);
            return true;
        }
        if (cls == H5T_STRING) {
            NirStrings s{shape, {}};
            if (n > 0 && !readStrings(ds, type.get(), space.get(), n, s.values))
                return quiet ? false : (error(path, "cannot read the strings of this dataset"), false);
            fields.strings[name] = std::move(s);
            return true;
        }
        if (!quiet)
            error(path, "datatype class " + std::to_string(static_cast<int>(cls)) + " (size " + std::to_string(size) +
                            ") is not a NIR number or string");
        return false;
    }

    static bool readStrings(hid_t ds, hid_t fileType, hid_t space, int64_t n, std::vector<std::string>& out)
    {
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        if (H5Tis_variable_str(fileType) > 0) {
            H5Tset_size(mem.get(), H5T_VARIABLE);
            H5Tset_cset(mem.get(), H5Tget_cset(fileType));
            std::vector<char*> buf(static_cast<size_t>(n), nullptr);
            if (H5Dread(ds, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
                return false;
            for (char* p : buf)
                out.emplace_back(p ? p : "");
            H5Dvlen_reclaim(mem.get(), space, H5P_DEFAULT, buf.data());
            return true;
        }
        const size_t size = H5Tget_size(fileType);
        H5Tset_size(mem.get(), size);
        std::vector<char> buf(size * static_cast<size_t>(n));
        if (H5Dread(ds, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
            return false;
        for (int64_t i = 0; i < n; ++i) {
            std::string s(buf.data() + i * static_cast<int64_t>(size), size);
            s.erase(s.find_last_not_of('\0') + 1);
            out.push_back(std::move(s));
        }
        return true;
    }

    // The datasets of a group; subgroups go to `groups` (by name) when given.
    void readGroup(hid_t g, const std::string& path, NirFields& fields, bool quiet, std::vector<std::string>* groups)
    {
        for (const auto& name : children(g)) {
            Handle obj(H5Oopen(g, name.c_str(), H5P_DEFAULT), H5Oclose);
            if (!obj.ok()) {
                if (!quiet)
                    error(path + "/" + name, "cannot open (a dangling or external link?)");
                continue;
            }
            const H5I_type_t kind = H5Iget_type(obj.get());
            if (kind == H5I_DATASET)
                readDataset(obj.get(), name, path + "/" + name, fields, quiet);
            else if (kind == H5I_GROUP && groups)
                groups->push_back(name);
        }
    }

    void readNode(hid_t g, const std::string& path, const std::string& name, NirNode& node, int depth)
    {
        node.name = name;
        node.path = path;
        std::vector<std::string> groups;
        readGroup(g, path, node.fields, false, &groups);
        auto type = node.fields.strings.find("type");
        if (type == node.fields.strings.end() || type->second.values.size() != 1) {
            error(path, "the node has no scalar string dataset \"type\"");
            return;
        }
        node.type = type->second.values[0];
        node.fields.strings.erase(type);
        for (const auto& sub : groups)
            if (sub == "metadata") {
                Handle m(H5Gopen2(g, sub.c_str(), H5P_DEFAULT), H5Gclose);
                readGroup(m.get(), path + "/metadata", node.metadata, true, nullptr); // optional: skip what we cannot read
            }
        if (node.type == "NIRGraph" && depth > 0) { // a nested graph (snnTorch's RLeaky/RSynaptic)
            if (depth > kMaxNesting) {
                error(path, "NIR graphs nested more than " + std::to_string(kMaxNesting) + " deep");
                return;
            }
            auto sub = std::make_shared<NirGraph>();
            readGraphBody(g, path, node.fields, *sub, depth);
            node.fields.strings.erase("edges");
            node.fields.arrays.erase("edges");
            node.subgraph = std::move(sub);
        }
    }

    std::optional<NirGraph> readGraph(hid_t file)
    {
        NirGraph g;
        if (H5Lexists(file, "version", H5P_DEFAULT) > 0) {
            NirFields top;
            Handle v(H5Dopen2(file, "version", H5P_DEFAULT), H5Dclose);
            if (v.ok() && readDataset(v.get(), "version", "/version", top, false) && top.string("version"))
                g.version = *top.string("version");
        } else {
            d.warning({file_, 0, 0}, "/version", "no NIR version dataset; reading it as NIR " + std::string(kNirVersion));
        }
        if (H5Lexists(file, "node", H5P_DEFAULT) <= 0) {
            error("/node", "missing: a NIR file keeps its graph in the group /node");
            return std::nullopt;
        }
        Handle root(H5Gopen2(file, "node", H5P_DEFAULT), H5Gclose);
        if (!root.ok()) {
            error("/node", "is not a group");
            return std::nullopt;
        }
        NirNode top;
        readNode(root.get(), "/node", "node", top, 0);
        if (d.hasErrors())
            return std::nullopt;
        if (top.type != "NIRGraph") {
            error("/node/type", "the root node must be a NIRGraph, got \"" + top.type + "\"");
            return std::nullopt;
        }
        g.metadata = std::move(top.metadata);
        readGraphBody(root.get(), "/node", top.fields, g, 0);
        if (d.hasErrors())
            return std::nullopt;
        return g;
    }

    // The "nodes" group and "edges" table of the NIRGraph group `g` at `path`.
    void readGraphBody(hid_t g, const std::string& path, const NirFields& fields, NirGraph& out, int depth)
    {
        if (H5Lexists(g, "nodes", H5P_DEFAULT) <= 0) {
            error(path + "/nodes", "missing");
            return;
        }
        Handle nodes(H5Gopen2(g, "nodes", H5P_DEFAULT), H5Gclose);
        if (!nodes.ok()) {
            error(path + "/nodes", "is not a group");
            return;
        }
        for (const auto& name : children(nodes.get())) {
            Handle n(H5Gopen2(nodes.get(), name.c_str(), H5P_DEFAULT), H5Gclose);
            if (!n.ok()) {
                error(path + "/nodes/" + name, "is not a group (each node is a group)");
                continue;
            }
            out.nodes.emplace_back();
            readNode(n.get(), path + "/nodes/" + name, name, out.nodes.back(), depth + 1);
        }
        readEdges(fields, path + "/edges", out);
    }

    void readEdges(const NirFields& f, const std::string& path, NirGraph& g)
    {
        if (const NirArray* numbers = f.array("edges")) {
            if (!numbers->values.empty())
                readIndexEdges(*numbers, path, g);
            return; // h5py writes an empty edge list as an empty float array
        }
        auto it = f.strings.find("edges");
        if (it == f.strings.end()) {
            error(path, "missing: expected an N x 2 array of node names");
            return;
        }
        const NirStrings& e = it->second;
        if (e.shape.size() != 2 || e.shape[1] != 2) {
            error(path, "must be N x 2 (source, target), got [" + ir::shapeToString(e.shape) + "]");
            return;
        }
        for (size_t i = 0; i + 1 < e.values.size(); i += 2)
            g.edges.emplace_back(e.values[i], e.values[i + 1]);
    }

    // NIR 0.1 kept edges as given: a writer that built them from node indices
    // (Lava-DL's nir_lava.py: nodes "0".."N-1", edges (i, j)) stores an integer
    // N x 2 table. The node of index i is the one named by its decimal digits.
    void readIndexEdges(const NirArray& e, const std::string& path, NirGraph& g)
    {
        if (e.shape.size() != 2 || e.shape[1] != 2) {
            error(path, "must be N x 2 (source, target), got [" + ir::shapeToString(e.shape) + "]");
            return;
        }
        if (e.dtype != NirArray::DType::Int64) {
            error(path, "holds floating-point numbers, not node names (only integer node indices, as NIR 0.1 wrote "
                        "them, are read as names)");
            return;
        }
        for (double v : e.values)
            if (v < 0 || v > 9007199254740992.0) { // read as double: exact up to 2^53
                error(path, "node index " + std::to_string(v) + " is negative or beyond 2^53");
                return;
            }
        for (size_t i = 0; i + 1 < e.values.size(); i += 2)
            g.edges.emplace_back(std::to_string(int64_t(e.values[i])), std::to_string(int64_t(e.values[i + 1])));
        d.warning({file_, 0, 0}, path,
                  "integer edges (node indices, as NIR 0.1 wrote index tuples): read as the node names \"0\", \"1\", "
                  "...; NIR 1.x's reader refuses them");
    }

private:
    std::string file_;
};

class Writer {
public:
    bool ok = true;

    void string(hid_t loc, const std::string& name, const std::vector<std::string>& values, const ir::Shape& shape)
    {
        Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(type.get(), H5T_VARIABLE);
        H5Tset_cset(type.get(), H5T_CSET_UTF8);
        Handle space(dataspace(shape), H5Sclose);
        Handle ds(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
        std::vector<const char*> ptrs;
        for (const auto& s : values)
            ptrs.push_back(s.c_str());
        ok = ok && ds.ok() && (ptrs.empty() || H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) >= 0);
    }

    void array(hid_t loc, const std::string& name, const NirArray& a)
    {
        Handle space(dataspace(a.shape), H5Sclose);
        hid_t fileType = H5T_IEEE_F64LE, memType = H5T_NATIVE_DOUBLE;
        std::vector<float> f32;
        std::vector<int64_t> i64;
        const void* data = a.values.data();
        if (a.dtype == NirArray::DType::Float32) {
            f32.assign(a.values.begin(), a.values.end());
            fileType = H5T_IEEE_F32LE, memType = H5T_NATIVE_FLOAT, data = f32.data();
        } else if (a.dtype == NirArray::DType::Int64) {
            for (double v : a.values)
                i64.push_back(static_cast<int64_t>(v));
            fileType = H5T_STD_I64LE, memType = H5T_NATIVE_INT64, data = i64.data();
        }
        Handle ds(H5Dcreate2(loc, name.c_str(), fileType, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
        ok = ok && ds.ok() && (a.values.empty() || H5Dwrite(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    }

    void fields(hid_t loc, const NirFields& f)
    {
        for (const auto& [name, a] : f.arrays)
            array(loc, name, a);
        for (const auto& [name, s] : f.strings)
            string(loc, name, s.values, s.shape);
    }

    // A node group; a nested graph (`sub`) gets its own "nodes" group and "edges" table.
    void node(hid_t parent, const std::string& name, const std::string& type, NirFields f, const NirFields& meta,
              const NirGraph* sub = nullptr)
    {
        if (sub) {
            NirStrings& edges = f.strings["edges"];
            edges.shape = {static_cast<int64_t>(sub->edges.size()), 2};
            for (const auto& [a, b] : sub->edges) {
                edges.values.push_back(a);
                edges.values.push_back(b);
            }
        }
        Handle g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
        if (!g.ok()) {
            ok = false;
            return;
        }
        string(g.get(), "type", {type}, {});
        fields(g.get(), f);
        if (!meta.empty()) {
            Handle m(H5Gcreate2(g.get(), "metadata", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
            fields(m.get(), meta);
        }
        if (sub) {
            Handle nodes(H5Gcreate2(g.get(), "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
            ok = ok && nodes.ok();
            for (const auto& n : sub->nodes)
                node(nodes.get(), n.name, n.type, n.fields, n.metadata, n.subgraph.get());
        }
    }

    void graph(hid_t file, const NirGraph& g)
    {
        string(file, "version", {g.version.empty() ? std::string(kNirVersion) : g.version}, {});
        node(file, "node", "NIRGraph", {}, g.metadata, &g);
    }

private:
    static hid_t dataspace(const ir::Shape& shape)
    {
        if (shape.empty())
            return H5Screate(H5S_SCALAR);
        std::vector<hsize_t> dims(shape.begin(), shape.end());
        return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    }
};

void silenceHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); } // we report errors ourselves

} // namespace

bool nirFilesAvailable() { return true; }

NirReadResult readNirFile(const std::string& path)
{
    silenceHdf5Errors();
    NirReadResult r;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        r.diagnostics.error({path, 0, 0}, {}, "no such file");
        return r;
    }
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        r.diagnostics.error({path, 0, 0}, {}, "not an HDF5 file (a .nir file is HDF5)");
        return r;
    }
    Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.ok()) {
        r.diagnostics.error({path, 0, 0}, {}, "cannot open the HDF5 file (truncated or damaged?)");
        return r;
    }
    Reader reader(path);
    r.graph = reader.readGraph(file.get());
    r.diagnostics = std::move(reader.d);
    return r;
}

Diagnostics writeNirFile(const NirGraph& g, const std::string& path)
{
    silenceHdf5Errors();
    Diagnostics d;
    const std::string tmp = path + ".tmp";
    bool ok = false;
    {
        Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
        if (file.ok()) {
            Writer w;
            w.graph(file.get(), g);
            ok = w.ok && H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0;
        }
    }
    std::error_code ec;
    if (ok)
        std::filesystem::rename(tmp, path, ec);
    if (!ok || ec) {
        std::filesystem::remove(tmp, ec);
        d.error({path, 0, 0}, {}, "cannot write the NIR file");
    }
    return d;
}

} // namespace stc::interop

#else // built without HDF5

namespace stc::interop {

namespace {
const char* kUnavailable = "NIR files are not yet available in this build: HDF5 not found when it was configured "
                           "(install libhdf5-dev and reconfigure)";
}

bool nirFilesAvailable() { return false; }

NirReadResult readNirFile(const std::string& path)
{
    NirReadResult r;
    r.diagnostics.error({path, 0, 0}, {}, kUnavailable);
    return r;
}

Diagnostics writeNirFile(const NirGraph&, const std::string& path)
{
    Diagnostics d;
    d.error({path, 0, 0}, {}, kUnavailable);
    return d;
}

} // namespace stc::interop

#endif
