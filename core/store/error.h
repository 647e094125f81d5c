// The one exception type of core/store. Every Project call either succeeds or
// throws store::Error; a failed write leaves the file as it was before the call.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace stc::store {

enum class ErrorKind : uint8_t {
    NotFound,    // no such file
    Exists,      // create() on a path that exists (never overwritten)
    NotAProject, // a directory, an empty file, not SQLite, or another application's SQLite file
    NewerSchema, // written by a newer STC Studio; refused so it cannot be damaged
    OlderSchema, // needs an upgrade, but the file was opened read-only
    Corrupt,     // damaged or truncated database
    ReadOnly,    // write on a read-only project or file
    Busy,        // another process held a lock longer than the busy timeout
    Constraint,  // a value violates the schema (e.g. correct > samples, unknown run id)
    Io,          // disk full, permission, short read...
    Invalid,     // bad argument (no such run, bad metric name...)
};
const char* toString(ErrorKind k);

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

private:
    ErrorKind kind_;
};

} // namespace stc::store
