#include "interop/hdf5_tree.h"

namespace stc::interop {

H5Dataset H5Dataset::ints(const std::vector<int64_t>& v)
{
    H5Dataset d{Kind::Int64, {static_cast<int64_t>(v.size())}, {}, {}, 0};
    for (int64_t x : v)
        d.numbers.push_back(static_cast<double>(x));
    return d;
}

H5Group& H5Group::group(const std::string& name)
{
    for (auto& [n, g] : groups)
        if (n == name)
            return g;
    groups.emplace_back(name, H5Group{});
    return groups.back().second;
}

const H5Group* H5Group::find(const std::string& name) const
{
    for (const auto& [n, g] : groups)
        if (n == name)
            return &g;
    return nullptr;
}

} // namespace stc::interop

#if STC_HAVE_HDF5

#include "interop/hdf5_handle.h"

#include <hdf5.h>

#include <filesystem>
#include <system_error>

namespace stc::interop {

namespace {

using Handle = Hdf5Handle;

class TreeWriter {
public:
    std::string failedPath; // the first dataset or group that could not be written

    void group(hid_t g, const H5Group& tree, const std::string& path)
    {
        for (const auto& [name, d] : tree.datasets)
            if (!dataset(g, name, d))
                fail(path + "/" + name);
        for (const auto& [name, child] : tree.groups) {
            Handle c(H5Gcreate2(g, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
            if (!c.ok()) {
                fail(path + "/" + name);
                continue;
            }
            group(c.get(), child, path + "/" + name);
        }
    }

private:
    void fail(const std::string& path)
    {
        if (failedPath.empty())
            failedPath = path;
    }

    static hid_t dataspace(const ir::Shape& shape)
    {
        if (shape.empty())
            return H5Screate(H5S_SCALAR);
        std::vector<hsize_t> dims(shape.begin(), shape.end());
        return H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    }

    static bool write(hid_t loc, const std::string& name, hid_t fileType, hid_t memType, const ir::Shape& shape,
                      const void* data, bool empty)
    {
        Handle space(dataspace(shape), H5Sclose);
        Handle ds(H5Dcreate2(loc, name.c_str(), fileType, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
        return ds.ok() && (empty || H5Dwrite(ds.get(), memType, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    }

    static bool dataset(hid_t loc, const std::string& name, const H5Dataset& d)
    {
        using K = H5Dataset::Kind;
        const bool empty = d.numbers.empty() && d.strings.empty();
        switch (d.kind) {
        case K::Float32: {
            std::vector<float> v(d.numbers.begin(), d.numbers.end());
            return write(loc, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, d.shape, v.data(), empty);
        }
        case K::Float64:
            return write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, d.shape, d.numbers.data(), empty);
        case K::Int64: {
            std::vector<int64_t> v;
            for (double x : d.numbers)
                v.push_back(static_cast<int64_t>(x));
            return write(loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, d.shape, v.data(), empty);
        }
        case K::Bool: { // h5py: numpy bool -> enum of int8 {FALSE = 0, TRUE = 1}
            Handle t(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose);
            const int8_t f = 0, tr = 1;
            H5Tenum_insert(t.get(), "FALSE", &f);
            H5Tenum_insert(t.get(), "TRUE", &tr);
            std::vector<int8_t> v;
            for (double x : d.numbers)
                v.push_back(x != 0.0 ? 1 : 0);
            return write(loc, name, t.get(), t.get(), d.shape, v.data(), empty);
        }
        case K::FixedString: { // numpy 'S<n>': null-padded ASCII
            Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(t.get(), d.fixedSize);
            H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
            H5Tset_cset(t.get(), H5T_CSET_ASCII);
            std::vector<char> buf(d.fixedSize * d.strings.size(), '\0');
            for (size_t i = 0; i < d.strings.size(); ++i)
                d.strings[i].copy(buf.data() + i * d.fixedSize, std::min(d.fixedSize, d.strings[i].size()));
            return write(loc, name, t.get(), t.get(), d.shape, buf.data(), empty);
        }
        case K::VarString: { // h5py: a Python str -> variable-length UTF-8
            Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
            H5Tset_size(t.get(), H5T_VARIABLE);
            H5Tset_cset(t.get(), H5T_CSET_UTF8);
            std::vector<const char*> ptrs;
            for (const auto& s : d.strings)
                ptrs.push_back(s.c_str());
            return write(loc, name, t.get(), t.get(), d.shape, ptrs.data(), empty);
        }
        }
        return false;
    }
};

} // namespace

bool hdf5TreeAvailable() { return true; }

Diagnostics writeHdf5Tree(const H5Group& root, const std::string& path, const std::string& what)
{
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); // we report errors ourselves
    Diagnostics d;
    const std::string tmp = path + ".tmp";
    std::string failed;
    bool ok = false;
    {
        Handle file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
        if (file.ok()) {
            TreeWriter w;
            w.group(file.get(), root, "");
            failed = w.failedPath;
            ok = failed.empty() && H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0;
        }
    }
    std::error_code ec;
    if (ok)
        std::filesystem::rename(tmp, path, ec);
    if (!ok || ec) {
        std::filesystem::remove(tmp, ec);
        d.error({path, 0, 0}, failed, "cannot write the " + what + " file");
    }
    return d;
}

} // namespace stc::interop

#else // built without HDF5

namespace stc::interop {

bool hdf5TreeAvailable() { return false; }

Diagnostics writeHdf5Tree(const H5Group&, const std::string& path, const std::string& what)
{
    Diagnostics d;
    d.error({path, 0, 0}, {}, what + " files are not available in this build: HDF5 not found when it was configured "
                                     "(install libhdf5-dev and reconfigure)");
    return d;
}

} // namespace stc::interop

#endif
