// An HDF5 identifier closed by its close function when the handle goes away.
// Include only where HDF5's headers are available (STC_HAVE_HDF5).
#pragma once

#include <hdf5.h>

namespace stc::interop {

class Hdf5Handle {
public:
    Hdf5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    ~Hdf5Handle()
    {
        if (id_ >= 0)
            close_(id_);
    }
    Hdf5Handle(const Hdf5Handle&) = delete;
    Hdf5Handle& operator=(const Hdf5Handle&) = delete;
    hid_t get() const { return id_; }
    bool ok() const { return id_ >= 0; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

} // namespace stc::interop
